/**
 * Sets `out[key] = value` as an own enumerable, writable, configurable property. A `__proto__`
 * key from hostile input must stay a key (assigning it would set the prototype), so it is
 * defined; every other key is assigned, which makes the same property and keeps the object in
 * V8's fast mode (defineProperty on each key cost most of the sanitise and redaction walks).
 */
export function setOwnKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}
