// Public API of the SIF layer: read, write, inspect, verify, build and mount SIF images.
export * from './format.js';
export * from './errors.js';
export { bufferSource, findDescriptor, openSource, parseSif, primaryPartition, readObject, readSif, withFileSource, type ByteSource, type SifImage } from './read.js';
export { addObject, createSif, deleteObject, parseUuid, setPrimary, type CreateOptions, type DeleteOptions, type ObjectData, type ObjectInput, type TimeOptions } from './write.js';
export { archName, descriptorJson, formatHeader, formatInfo, formatList, goTime, headerJson, readableSize } from './inspect.js';
export { verifySif, type SignatureResult, type VerifyReport, type VerifySelection } from './verify.js';
export { KEY_TYPES, listKeys, loadKeyring, loadKeys, loadSigningKey, newKey, parseKeyring, readKeyring, type KeyInfo, type KeyType, type SigningKey, type VerifyKeys } from './keys.js';
export { buildSif, ociRunscript, COMPRESSIONS, DEFAULT_COMPRESSION, IMAGE_CONFIG_NAME, readImageConfig, type BuildOptions, type Compression, type ImageConfig } from './build.js';
export { mountEntry, mountSif, unmountSif, type MountMethod, type MountOptions, type MountResult } from './mount.js';
export { signSif, type SignOptions, type SignResult } from './sign.js';
export { unsignedReason, unsignedRefusal } from './policy.js';
