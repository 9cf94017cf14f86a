import { z } from 'zod';

/**
 * A string argument a tool will store or show: bounded, free of NUL and other C0 controls
 * (except tab and newline), and well-formed UTF-16 (no lone surrogates, which break every
 * encoder downstream). Messages speak to the model, which must be able to fix its call.
 */
export function text(opts: { min?: number; max: number }) {
  return (
    z
      .string()
      .min(opts.min ?? 0, { message: `must be at least ${opts.min ?? 0} characters` })
      .max(opts.max, { message: `must be at most ${opts.max} characters` })
      .refine((s) => s.isWellFormed(), { message: 'contains invalid Unicode (a lone surrogate)' })
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .refine((s) => !/[\x00-\x08\x0b-\x1f\x7f]/.test(s), {
        message: 'contains control characters (such as NUL); send plain text',
      })
  );
}
