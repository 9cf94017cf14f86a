/** Local user names: letters, digits and `. _ @ + -`, up to 128; also used for federated names. */
export const USER_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._@+-]{0,127}$/u;
