/** tsx's loader, for child processes that run TypeScript (`node --import <TSX> file.ts`): node stays the process that gets the signals. */
import { fileURLToPath } from 'node:url';

export const TSX = fileURLToPath(import.meta.resolve('tsx'));
