-- civreg schema 3: the ICAO PKI of the issuing state (Doc 9303-12).
-- Certificates are kept as DER; private keys sealed (core/seal.h) under the
-- data directory's keys/pki.key with associated data "civreg-pki-key:<serial>".

CREATE TABLE pki_certs (
    serial        TEXT PRIMARY KEY CHECK (length(serial) BETWEEN 2 AND 42),  -- upper-case hex
    kind          TEXT NOT NULL CHECK (kind IN ('csca', 'link', 'ds', 'barcode', 'mls')),
    issuer_serial TEXT REFERENCES pki_certs(serial),   -- NULL for a self-signed CSCA
    subject       TEXT NOT NULL,                       -- RFC 2253 form, for display
    algorithm     TEXT NOT NULL,                       -- ecdsa-p256, ecdsa-brainpoolP256r1, rsa-3072
    not_before    TEXT NOT NULL,                       -- ISO 8601 UTC
    not_after     TEXT NOT NULL,
    pkup_not_before TEXT,                              -- private key usage period
    pkup_not_after  TEXT,
    cert_der      BLOB NOT NULL,
    key_sealed    BLOB,                                -- NULL for link certificates
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'revoked')),
    revoked_at    TEXT,
    revocation_reason TEXT,
    created_at    TEXT NOT NULL
) STRICT;

CREATE INDEX pki_certs_kind ON pki_certs(kind, status);

-- Every CRL the CSCA signed; number is the cRLNumber extension.
CREATE TABLE pki_crls (
    csca_serial  TEXT NOT NULL REFERENCES pki_certs(serial),
    number       INTEGER NOT NULL,
    this_update  TEXT NOT NULL,
    next_update  TEXT NOT NULL,
    crl_der      BLOB NOT NULL,
    PRIMARY KEY (csca_serial, number)
) STRICT;
