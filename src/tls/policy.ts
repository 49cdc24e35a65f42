// The TLS hitless offers, at start and on every certificate reload: TLS 1.2 and 1.3 only, and on 1.2
// only ECDHE key exchange (forward secrecy) with AEAD ciphers. No CBC, no SHA-1 MACs, no static RSA key
// exchange, whatever the key type. Every API server since 1.0 speaks ECDHE-*-GCM on TLS 1.2.
export const TLS_CIPHERS = [
  // TLS 1.3 (always AEAD, always ephemeral)
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  // TLS 1.2
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

export const TLS_SETTINGS = {
  minVersion: 'TLSv1.2',
  ciphers: TLS_CIPHERS,
  honorCipherOrder: true,
} as const
