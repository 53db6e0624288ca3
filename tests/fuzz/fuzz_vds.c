/* Fuzz: visible digital seal payloads (issuance/vds.c): the structural
 * parser, the payload round trip, and full verification against a fixed
 * CSCA (the seed extract.json was signed under it, so the signature and
 * chain paths run too). */
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "fuzz.h"
#include "issuance/icao/vds.h"

/* The CSCA of the data directory that signed corpus/vds/extract.json
 * (civreg pki init --country UT; public certificate only). */
static const char csca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICEjCCAbegAwIBAgIQNCHJEWq6cBZvL6TnX1bGdTAKBggqhkjOPQQDAjA/MQsw\n"
    "CQYDVQQGEwJVVDEUMBIGA1UECgwLSGVhZCBvZmZpY2UxGjAYBgNVBAMMEUNTQ0Eg\n"
    "VVQgMjAyNi1CQzVCMB4XDTI2MTEyNjE2MzcyNFoXDTQyMDIyNTE2MzcyNFowPzEL\n"
    "MAkGA1UEBhMCVVQxFDASBgNVBAoMC0hlYWQgb2ZmaWNlMRowGAYDVQQDDBFDU0NB\n"
    "IFVUIDIwMjYtQkM1QjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPbldTsxDNpl\n"
    "7KyzN92NyHaas4fhC1Nsr6pAJBg1F+XmSrBfSAXXTuO2Q6AFKxlir1Wedee0SzNe\n"
    "B3ufAZVbp1KjgZQwgZEwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMC\n"
    "AQYwHQYDVR0OBBYEFONOCXBM9TdGmQSGcGus1hCa3/+/MB8GA1UdIwQYMBaAFONO\n"
    "CXBM9TdGmQSGcGus1hCa3/+/MCsGA1UdEAQkMCKADzIwMjYxMTI2MTYzNzI0WoEP\n"
    "MjAzMTExMjUxNjM3MjRaMAoGCCqGSM49BAMCA0kAMEYCIQD7X3JPsoaXJRMHjNa+\n"
    "I4vmAN/KfUkMJTw1NV5Yj6iLYQIhANjkmoIaMv7RlwSixZzjyrBl0Ikb7YKif5Xe\n"
    "HyK5Ln5y\n"
    "-----END CERTIFICATE-----\n"
    ;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *seal = NULL, *again = NULL, *res = NULL;
    struct buf pl = BUF_INIT(1 << 20);

    if (vds_parse((const char *)data, size, &seal, NULL) == 0) {
        /* What parses re-encodes (ASCII) to a payload that parses to the
         * same seal. */
        if (vds_payload(seal, &pl, NULL) != 0 ||
            vds_parse((const char *)pl.data, pl.len, &again, NULL) != 0 ||
            !json_equal(seal, again))
            __builtin_trap();
        for (size_t i = 0; i < pl.len; i++)
            if (pl.data[i] >= 0x80)
                __builtin_trap();
    }
    /* fixed time: the seed's signer is valid then */
    if (vds_verify((const char *)data, size, (const unsigned char *)csca, sizeof csca - 1,
                   1800000000, &res, NULL) == 0 && seal == NULL)
        __builtin_trap(); /* verified what does not parse */
    json_decref(res);
    json_decref(seal);
    json_decref(again);
    buf_release(&pl);
    return 0;
}
