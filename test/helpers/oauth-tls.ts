import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

/**
 * A self-signed certificate for 127.0.0.1 and localhost, valid for a century, used only by tests
 * that need https on loopback: the gateway's own TLS listener (so pages use `__Host-` cookies
 * for real) and a local "public" server for Client ID Metadata Documents. Test-only material;
 * it protects nothing.
 */
export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBtzCCAV2gAwIBAgIUFu1rlR1CB/KoP9FY0AHX9udDTIcwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPcG9ydGN1bGxpcy10ZXN0MCAXDTI2MTEyMTA4NDA0MloYDzIx
MjYxMDI4MDg0MDQyWjAaMRgwFgYDVQQDDA9wb3J0Y3VsbGlzLXRlc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARzzc227T+vdNucCecvUocl+rAcKqitXu+LMmaf
OKEzzOPaZFHPe7d28aW9ujMmmCOdZEKw8ijCAbiy7SR7KwX5o38wfTAdBgNVHQ4E
FgQU5ylZKl5uDZM+qkluqvG3y/j6nMQwHwYDVR0jBBgwFoAU5ylZKl5uDZM+qklu
qvG3y/j6nMQwGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MA8GA1UdEwEB/wQF
MAMBAf8wDgYDVR0PAQH/BAQDAgKEMAoGCCqGSM49BAMCA0gAMEUCIQCDFti8e49f
XGIjBXUW/6qsShz+iSi560xlx02A17babgIgaWVlivdN0UGKcKMw+tINCNcU61RE
zH8FB3mqWxEdPdE=
-----END CERTIFICATE-----
`;
export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtGuTJ+uon4KtaXpI
lHkqbJoW1Sgr0tvzBAi8EwHovy6hRANCAARzzc227T+vdNucCecvUocl+rAcKqit
Xu+LMmafOKEzzOPaZFHPe7d28aW9ujMmmCOdZEKw8ijCAbiy7SR7KwX5
-----END PRIVATE KEY-----
`;

let trusted = false;

/** Makes this test process trust TEST_CERT for outgoing TLS (fetch, the egress guard). */
export function trustTestCertificate(): void {
  if (trusted) return;
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), TEST_CERT]);
  trusted = true;
}

/** Writes the certificate and key where `server.tls` can point at them. */
export function writeTestTls(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'test-cert.pem');
  const key = path.join(dir, 'test-key.pem');
  fs.writeFileSync(cert, TEST_CERT);
  fs.writeFileSync(key, TEST_KEY, { mode: 0o600 });
  return { cert, key };
}

/** A local https server (127.0.0.1, TEST_CERT) answering with the given handler. */
export async function startHttpsServer(
  handler: (url: URL) => { status: number; body: string; headers?: Record<string, string> },
): Promise<{ origin: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer({ cert: TEST_CERT, key: TEST_KEY }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    hits.push(url.pathname);
    const answer = handler(url);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A throwaway self-signed P-256 certificate made with the system's openssl, for a test that needs
 * one other than TEST_CERT (another name, its own CA). Writes `cert.pem` and `key.pem` into `dir`.
 */
export function makeSelfSignedCert(
  dir: string,
  opts: { commonName: string; subjectAltName: string; days?: number },
): { certFile: string; keyFile: string; cert: string; key: string } {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      String(opts.days ?? 1),
      '-subj',
      `/CN=${opts.commonName}`,
      '-addext',
      `subjectAltName=${opts.subjectAltName}`,
    ],
    { stdio: 'ignore' },
  );
  return {
    certFile,
    keyFile,
    cert: fs.readFileSync(certFile, 'utf8'),
    key: fs.readFileSync(keyFile, 'utf8'),
  };
}
