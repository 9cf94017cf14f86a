// The operator settings every Portcullis target is measured with. The defaults (per credential:
// 60 calls a minute, 10,000 a day, 8 in flight; per credential on one upstream: 300 a minute)
// protect a real deployment, and under 32 closed-loop connections they would turn any run into a
// measurement of 429s. So the bench raises them, as an operator with one heavy client would; no
// tier is switched off: each is still counted and checked on every call.
export const LOAD_LIMITS_ENV: Readonly<Record<string, string>> = {
  PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '100000000',
  PORTCULLIS_RATE_LIMITS__DAILY_QUOTA__POINTS: '100000000',
  PORTCULLIS_RATE_LIMITS__UPSTREAM__POINTS: '100000000',
  PORTCULLIS_RATE_LIMITS__CONCURRENCY__MAX_IN_FLIGHT: '10000',
};

/** One line for the bench output, so a reader sees which limits were raised and to what. */
export const LOAD_LIMITS_NOTE =
  'rate limits raised for the load, every tier still checked on every call: ' +
  Object.entries(LOAD_LIMITS_ENV)
    .map(([k, v]) => `${k.replace('PORTCULLIS_RATE_LIMITS__', '').toLowerCase()}=${v}`)
    .join(', ');
