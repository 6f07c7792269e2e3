import { statfsSync, mkdirSync } from 'node:fs';
import type { CriServices } from '../services/index.js';
import { nowNanos } from '../validate.js';
import type { MethodGroup } from './handlers.js';

/** ListImages, ImageStatus, PullImage, RemoveImage, ImageFsInfo. */
export function imageMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      ImageFsInfo: () => {
        const dir = svc.config.imageDir;
        mkdirSync(dir, { recursive: true });
        const fs = statfsSync(dir);
        const used = (fs.blocks - fs.bfree) * fs.bsize;
        const inodes = fs.files - fs.ffree;
        const usage = { timestamp: nowNanos(), fsId: { mountpoint: dir }, usedBytes: { value: used }, inodesUsed: { value: inodes } };
        return { imageFilesystems: [usage], containerFilesystems: [] };
      },
    },
  };
}
