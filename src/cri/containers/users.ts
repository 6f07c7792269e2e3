import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function lines(root: string, file: string): string[][] {
  try {
    return readFileSync(join(root, 'etc', file), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function passwd(root: string): PasswdEntry[] {
  return lines(root, 'passwd').map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }));
}

function groups(root: string): GroupEntry[] {
  return lines(root, 'group').map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** What the CRI request says about the user (all optional). */
export interface UserRequest {
  runAsUser?: number;
  runAsGroup?: number;
  runAsUsername?: string;
  supplementalGroups: number[];
  strictGroups: boolean;
}

/**
 * The container's user, resolved against the image's /etc/passwd and /etc/group as Docker and
 * containerd do: the request wins over the image's USER; a name must exist in the image; a numeric
 * user missing from passwd runs with gid 0; groups listing the user are added (unless Strict).
 */
export function resolveUser(root: string, req: UserRequest, imageUser: string): ResolvedUser {
  const users = passwd(root);
  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  const [imgUser, imgGroup] = imageUser.split(':');
  if (req.runAsUser !== undefined) {
    uid = req.runAsUser;
  } else {
    const wanted = req.runAsUsername ?? imgUser ?? '';
    const field = req.runAsUsername !== undefined ? 'config.linux.security_context.run_as_username' : 'the image USER';
    if (wanted === '' || /^\d+$/.test(wanted)) {
      uid = Number(wanted || 0);
    } else {
      const u = users.find((e) => e.name === wanted);
      if (!u) throw new InvalidArgumentError(`${field} ${wanted} is not in the image's /etc/passwd: use a user the image has, or a numeric uid`);
      uid = u.uid;
      gid = u.gid;
      name = u.name;
    }
  }
  const entry = users.find((e) => e.uid === uid);
  name ??= entry?.name;
  gid ??= entry?.gid ?? 0;
  const allGroups = groups(root);
  if (req.runAsGroup !== undefined) {
    gid = req.runAsGroup;
  } else if (req.runAsUser === undefined && req.runAsUsername === undefined && imgGroup) {
    if (/^\d+$/.test(imgGroup)) gid = Number(imgGroup);
    else {
      const g = allGroups.find((e) => e.name === imgGroup);
      if (!g) throw new InvalidArgumentError(`the image USER group ${imgGroup} is not in the image's /etc/group`);
      gid = g.gid;
    }
  }
  const fromImage = req.strictGroups || !name ? [] : allGroups.filter((g) => g.members.includes(name!)).map((g) => g.gid);
  const additionalGids = [...new Set([...fromImage, ...req.supplementalGroups])].filter((g) => g !== gid);
  return { uid, gid, additionalGids };
}
