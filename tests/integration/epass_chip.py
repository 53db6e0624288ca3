#!/usr/bin/python3
"""An independent chip for `civreg chip read`: the ePass emulation of
vsmartcard (Debian python3-virtualsmartcard), its own BAC and secure
messaging, holding a civreg package. As packaged it does not start on
Debian 12 (it imports `Crypto`, which Debian ships as `Cryptodome`, and its
card generator prompts with `raw_input`), so this harness aliases the module,
replaces three Python-2-only helpers (XOR of two strings, TLV packing, a byte
taken as a string) and builds the MF
itself from the package's files. Its BAC, key derivation, SSC and secure
messaging are its own.

usage: epass_chip.py PACKAGE_DIR PORT
"""
import importlib
import os
import sys

sys.path.insert(0, "/usr/lib/python3/site-packages/virtualsmartcard")
import Cryptodome  # noqa: E402  (python3-pycryptodome)

sys.modules["Crypto"] = Cryptodome
for sub in ("Cipher", "Hash", "Util", "PublicKey", "Random", "Signature"):
    try:
        sys.modules["Crypto." + sub] = importlib.import_module("Cryptodome." + sub)
    except ImportError:
        pass
import Cryptodome.Hash.SHA1 as _sha1  # noqa: E402

sys.modules["Crypto.Hash.SHA"] = _sha1
Cryptodome.Hash.SHA = _sha1

import virtualsmartcard.CryptoUtils as vsCrypto  # noqa: E402


def _operation_on_bytes(a, b, op):
    """CryptoUtils.operation_on_string works on Python 2 strings only."""
    return bytes(op(x, y) for x, y in zip(a, b))


vsCrypto.operation_on_string = _operation_on_bytes

import virtualsmartcard.TLVutils as vsTLV  # noqa: E402
from virtualsmartcard.utils import inttostring  # noqa: E402


def _pack(tlv_data, recalculate_length=False):
    """TLVutils.pack ends with b"".join over bytes (a Python 2 leftover)."""
    result = b""
    for data in tlv_data:
        tag, length, value = data[:3]
        if tag in (0xff, 0x00):
            result += inttostring(tag)
            continue
        if not isinstance(value, bytes):
            value = _pack(value, recalculate_length)
        if recalculate_length:
            length = len(value)
        t = b""
        while tag > 0:
            t = inttostring(tag & 0xff) + t
            tag >>= 8
        if length < 0x7F:
            ln = inttostring(length)
        else:
            ln = b""
            while length > 0:
                ln = inttostring(length & 0xff) + ln
                length >>= 8
            ln = inttostring(0x80 | len(ln)) + ln
        result += t + ln + value
    return result


vsTLV.pack = _pack
import virtualsmartcard.SEutils as vsSE  # noqa: E402
import virtualsmartcard.utils as vsUtils  # noqa: E402

_stringtoint = vsUtils.stringtoint


def _stringtoint_py3(data):
    """Indexing bytes gives an int on Python 3, which stringtoint refuses."""
    return data if isinstance(data, int) else _stringtoint(data)


vsSE.stringtoint = _stringtoint_py3
vsSE.pack = _pack


def _py3_method(cls, name, fixes):
    """Recompile one method with its Python 2 string joins made byte joins."""
    import inspect
    import textwrap
    src = textwrap.dedent(inspect.getsource(getattr(cls, name)))
    for old, new in fixes:
        if old not in src:
            raise RuntimeError("epass harness: %s.%s changed: %r" % (cls.__name__, name, old))
        src = src.replace(old, new)
    ns = {}
    exec(compile(src, "<py3 " + name + ">", "exec"), vars(sys.modules[cls.__module__]), ns)
    setattr(cls, name, ns[name])


_py3_method(vsSE.Security_Environment, "parse_SM_CAPDU",
            [('"".join(', 'b"".join('), ('return_data = ["", ]', 'return_data = [b"", ]')])
# protect_response: byte strings, and DO'99' (the status word, mandatory in
# Doc 9303-11 responses), which ePass has commented out, put back
_py3_method(vsSE.Security_Environment, "protect_response", [
    ('return_data = ""', 'return_data = b""'),
    ('if result != "":', 'if result:'),
    ('encrypted = "\\x01" + encrypted', 'encrypted = b"\\x01" + encrypted'),
    ('    if sw == SW["NORMAL"]:\n        if self.cct.algorithm is None:',
     '    swb = inttostring(sw, 2)\n'
     '    return_data += pack([(SM_Class["PLAIN_PROCESSING_STATUS"], 2, swb)])\n'
     '    if True:\n        if self.cct.algorithm is None:'),
])
from virtualsmartcard.SmartcardFilesystem import MF, DF, TransparentStructureEF  # noqa: E402
from virtualsmartcard.cards.ePass import PassportSAM  # noqa: E402
from virtualsmartcard.VirtualSmartcard import VirtualICC, Iso7816OS  # noqa: E402


def main():
    pkg, port = sys.argv[1], int(sys.argv[2])
    mf = MF()
    df = DF(parent=mf, fid=4, dfname=b"\xa0\x00\x00\x02G\x10\x01", bertlv_data=[])
    for name in sorted(os.listdir(pkg)):
        if len(name) == 4 and all(c in "0123456789ABCDEF" for c in name):
            with open(os.path.join(pkg, name), "rb") as f:
                data = f.read()
            df.append(TransparentStructureEF(parent=df, fid=int(name, 16), filedescriptor=0,
                                             data=data))
    mf.append(df)
    sam = PassportSAM(mf)
    icc = VirtualICC.__new__(VirtualICC)
    icc.os = Iso7816OS(mf, sam)
    icc.type = "ePass"
    icc.host = "localhost"
    icc.port = port
    icc.sock = icc.connectToPort("localhost", port)
    icc.sock.settimeout(None)
    icc.server_sock = None
    print("epass: connected to vpcd", file=sys.stderr, flush=True)
    icc.run()


if __name__ == "__main__":
    main()
