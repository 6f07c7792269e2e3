import { SifkubeError } from '../errors.js';

/*
 * One class per failure class, each with its own exit code (40..59 belong to the SIF layer). Every
 * message names the file (or input) and the defect, and says what to do.
 */

/** Base of the SIF layer's errors, so callers can catch them as one family. */
export class SifError extends SifkubeError {}

/** The file cannot be opened or read at all. */
export class SifOpenError extends SifError {
  constructor(file: string, reason: string) {
    super(`${file}: cannot read: ${reason}: check the path and permissions`, 40);
  }
}

/** The file is shorter than the structure it must hold. */
export class SifTruncatedError extends SifError {
  constructor(file: string, what: string) {
    super(`${file}: not a SIF image: truncated (${what}): the file is incomplete, download or build it again`, 41);
  }
}

export class SifMagicError extends SifError {
  constructor(file: string) {
    super(`${file}: not a SIF image: invalid SIF magic (expected "SIF_MAGIC" at byte 32): pass a SIF file`, 42);
  }
}

export class SifVersionError extends SifError {
  constructor(file: string, version: string) {
    super(`${file}: incompatible SIF version ${JSON.stringify(version)} (only "01" is supported): rebuild the image with a current tool`, 43);
  }
}

/** Descriptor count, table position or table size is impossible. */
export class SifDescriptorTableError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: corrupt SIF descriptor table: ${defect}: the image is damaged, rebuild it`, 44);
  }
}

/** An object's data lies (partly) outside the file or before the data area. */
export class SifObjectBoundsError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: corrupt SIF object: ${defect}: the image is damaged or truncated, rebuild it`, 45);
  }
}

/** Two objects share bytes. */
export class SifOverlapError extends SifError {
  constructor(file: string, a: number, b: number) {
    super(`${file}: corrupt SIF image: objects ${a} and ${b} overlap: the image is damaged, rebuild it`, 46);
  }
}

/** Primary partition rules broken: more than one, or an empty one. */
export class SifPrimaryPartitionError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: ${defect}`, 47);
  }
}

/** A descriptor is malformed in itself (bad ID, duplicate ID, bad extra metadata). */
export class SifDescriptorError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: corrupt SIF descriptor: ${defect}: the image is damaged, rebuild it`, 48);
  }
}

/** The object ID asked for is not in the image. */
export class SifObjectNotFoundError extends SifError {
  constructor(file: string, id: number | string) {
    super(`${file}: no object with ID ${id}: list the objects with \`sifkube sif list ${file}\``, 49);
  }
}

/** A write would not fit (no free descriptor slot, name too long, bad option). */
export class SifWriteError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: ${defect}`, 50);
  }
}

/** A signature is missing, malformed, made by another key, or does not match the bytes. */
export class SifVerifyError extends SifError {
  constructor(file: string, defect: string) {
    super(`${file}: verification failed: ${defect}`, 51);
  }
}

/** A key file cannot be used. */
export class SifKeyError extends SifError {
  constructor(file: string, defect: string, fix = 'pass an armored OpenPGP public key or a PEM public key') {
    super(`${file}: unusable key: ${defect}: ${fix}`, 52);
  }
}

/** Building an image from a root filesystem failed. */
export class SifBuildError extends SifError {
  constructor(what: string, defect: string) {
    super(`${what}: ${defect}`, 53);
  }
}

/** Mounting or unmounting failed. */
export class SifMountError extends SifError {
  constructor(what: string, defect: string) {
    super(`${what}: ${defect}`, 54);
  }
}

/** Bad user input that is not a file defect (an unknown type name, a bad UUID, …). */
export class SifInputError extends SifError {
  constructor(message: string) {
    super(message, 55);
  }
}
