import type * as Undici from 'undici';
import { importAgain } from '../lazy/index.js';

/** undici (about a hundred modules), loaded by the first guarded connection, not at start. */
export const loadUndici = importAgain<typeof Undici>(import.meta.resolve('undici'));
