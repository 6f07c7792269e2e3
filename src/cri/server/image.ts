import type { AuthConfig } from '../images/service.js';
import { imageUser } from '../images/service.js';
import type { ImageRecord } from '../images/store.js';
import type { CriServices } from '../services/index.js';
import { nowNanos, requireMessage } from '../validate.js';
import type { MethodGroup } from './handlers.js';

interface ImageSpec {
  image: string;
  annotations: Record<string, string>;
}

function image(rec: ImageRecord) {
  return {
    id: rec.id,
    repoTags: rec.repoTags,
    repoDigests: rec.repoDigests,
    size: String(rec.size),
    ...imageUser(rec),
    spec: { image: rec.id, annotations: {} },
    pinned: false,
  };
}

function listed(svc: CriServices, filter: { image: ImageSpec | null } | null) {
  const spec = filter?.image?.image;
  if (!spec) return svc.images.store.list();
  const one = svc.images.find(spec, 'filter.image.image');
  return one ? [one] : [];
}

/** ListImages, StreamImages, ImageStatus, PullImage, RemoveImage, ImageFsInfo. */
export function imageMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      ListImages: (req: { filter: { image: ImageSpec | null } | null }) => ({ images: listed(svc, req.filter).map(image) }),
      // An image that is not there is a response without an image, not an error.
      ImageStatus: (req: { image: ImageSpec | null; verbose: boolean }) => {
        const rec = svc.images.find(requireMessage(req.image, 'image').image);
        if (!rec) return { image: null, info: {} };
        return { image: image(rec), info: req.verbose ? { info: JSON.stringify({ imageSpec: rec.config, sif: rec.sif }) } : {} };
      },
      PullImage: async (req: { image: ImageSpec | null; auth: AuthConfig | null }) => {
        const rec = await svc.images.pull(requireMessage(req.image, 'image').image, req.auth);
        return { imageRef: rec.id };
      },
      RemoveImage: async (req: { image: ImageSpec | null }) => {
        await svc.images.remove(requireMessage(req.image, 'image').image, (id) => svc.containers.usingImage(id));
        return {};
      },
      ImageFsInfo: () => {
        const { bytes, inodes } = svc.images.store.usage();
        const usage = { timestamp: nowNanos(), fsId: { mountpoint: svc.config.imageDir }, usedBytes: { value: String(bytes) }, inodesUsed: { value: String(inodes) } };
        return { imageFilesystems: [usage], containerFilesystems: [] };
      },
    },
    streaming: {
      StreamImages: async (req: { filter: { image: ImageSpec | null } | null }, send) => {
        const all = listed(svc, req.filter).map(image);
        for (let i = 0; i < all.length; i += 500) send({ images: all.slice(i, i + 500) });
      },
    },
  };
}
