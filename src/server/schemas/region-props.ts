/**
 * The W3C extension properties artprobe keeps in an annotation document (a plain constant without TypeBox, so
 * the web UI can import it without the schema library).
 *
 * @example
 * doc[REGION_PROPS.version]; // 3
 */
export const REGION_PROPS = {
  /** Integer, raised by one at each versioned save. */
  version: 'artprobe:version',
  /** true: moving, reshaping, renaming or deleting needs an unlock first. */
  locked: 'artprobe:locked',
  /** Where an imported region came from: { format, file, id }. */
  origin: 'artprobe:origin',
} as const;
