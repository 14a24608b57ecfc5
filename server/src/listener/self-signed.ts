import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** A certificate this close to its end is made anew at start. */
const RENEW_BEFORE_MS = 7 * 86_400_000;
const VALID_MS = 365 * 86_400_000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/**
 * The development certificate for localhost, 127.0.0.1 and ::1, kept in `<dataDir>/tls/` and
 * reused until a week before it expires, so clients told to trust it go on trusting it.
 * Node 20 has no X.509 builder in core, hence @peculiar/x509 (on node:crypto's WebCrypto).
 */
export async function ensureSelfSignedCertificate(dataDir: string, now: number): Promise<CertificateFiles> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'localhost-cert.pem');
  const keyFile = join(dir, 'localhost-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    const validTo = Date.parse(new X509Certificate(cert).validTo);
    if (validTo - now > RENEW_BEFORE_MS) return { certFile, keyFile, cert, key: readFileSync(keyFile, 'utf8') };
  }
  const crypto = webcrypto as unknown as Crypto;
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const made = await x509.X509CertificateGenerator.createSelfSigned(
    {
      // Positive and 16 bytes, as RFC 5280 asks of serial numbers.
      serialNumber: `01${randomBytes(15).toString('hex')}`,
      name: 'CN=localhost, O=Switchboard development',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + VALID_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      // Its own trust root as well as the server's certificate (what `openssl req -x509` makes):
      // clients are handed this one file as the root to trust, and strict verifiers (OpenSSL's
      // X509_STRICT, BoringSSL in gRPC) want a CA with key identifiers.
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const cert = made.toString('pem');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, key, { mode: 0o600 });
  writeFileSync(certFile, cert, { mode: 0o644 });
  return { certFile, keyFile, cert, key };
}
