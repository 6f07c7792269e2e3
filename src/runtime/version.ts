/** The runtime-spec version this runtime implements and reports in `state`. */
export const OCI_VERSION = '1.2.0';
