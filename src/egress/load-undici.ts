import type * as Undici from 'undici';
import { importAgain } from '../lazy/import-again.js';

/** undici (about a hundred modules), loaded by the first guarded connection, not at start. */
export const loadUndici = importAgain<typeof Undici>(import.meta.resolve('undici'));
