/** One line of a helper plan: an operation name and its fields (see native/container.c). */
export type PlanLine = string[];

const escape = (f: string): string => f.replace(/[%\t\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The wire form the helper reads on fd 3: tab-separated %-escaped fields, ended by "end". */
export function encodePlan(lines: PlanLine[]): string {
  return `${lines.map((l) => l.map(escape).join('\t')).join('\n')}\nend\n`;
}
