#!/usr/bin/env python3
"""Makes the byte-exact E2SM-RC APER test vectors of e2sm/tests/rc_aper.rs and
e2sm/tests/rc_leaves.rs with an independent encoder, asn1tools (codec 'per', i.e. ALIGNED
PER), and prints them as Rust constants. Not run by the tests or CI; it documents how the
vectors were made.

The ASN.1 is the STANDARD O-RAN E2SM-RC v1.03 module with the E2SM-COMMON-IEs it imports,
not this project's subset: FlexRIC carries both modules in one file,
src/sm/rc_sm/ie/asn/e2sm_rc_v1_03_standard.asn, at commit c74bcef0 of
github.com/openaicellular/flexric. That file has no licence header, so it is not committed
here; extract it from a checkout of that repository and pass its path (or several paths, if
the modules come in separate files) as arguments, or in E2SM_RC_ASN (separated by ':'):

    git -C <flexric checkout> show \\
        c74bcef0:src/sm/rc_sm/ie/asn/e2sm_rc_v1_03_standard.asn > /tmp/e2sm_rc_v1_03_standard.asn
    python3 -m venv /tmp/asnvenv && /tmp/asnvenv/bin/pip install asn1tools
    /tmp/asnvenv/bin/python .ci/e2sm-vectors.py /tmp/e2sm_rc_v1_03_standard.asn

Every vector is also encoded with our subset e2sm/asn1/e2sm-rc-subset.asn (with
e2sm-common-subset.asn), which the rasn reference codec is generated from, and must come out
byte-identical (--no-subset-check skips that).

Messages: the slice-level PRB quota control (E2SM-RC clause 7.6.3.1, style 2 action 6; the
clause 8.4.3.6 RAN parameter tree) in both RAN parameter ID dialects (O-RAN table, OAI) and
both leaf encodings (binary 3GPP octets, ASCII text), as RanParamDialect and LeafEncoding in
e2sm/src/rc/mod.rs document them; the headers are style 2, action 6.
"""
import argparse
import os
import sys

import asn1tools

HERE = os.path.dirname(os.path.abspath(__file__))
SUBSET = [os.path.join(HERE, "..", "e2sm", "asn1", m)
          for m in ("e2sm-common-subset.asn", "e2sm-rc-subset.asn")]
SOURCE = ("FlexRIC commit c74bcef0 (github.com/openaicellular/flexric), "
          "src/sm/rc_sm/ie/asn/e2sm_rc_v1_03_standard.asn")

# RAN parameter IDs of E2SM-RC clause 8.4.3.6, see RanParamDialect in e2sm/src/rc/mod.rs.
# always_sd: the OAI agent asserts that S-NSSAI holds SST and SD, so that dialect sends SD
# 0xFFFFFF ("no SD", TS 23.003 clause 28.4.2) for a slice without one.
DIALECTS = {
    "ORAN": dict(list=1, group=2, policy=3, member_list=5, member=6, plmn=7, snssai=8,
                 sst=9, sd=10, min=11, max=12, ded=13, always_sd=False, default="BINARY"),
    "OAI": dict(list=1, group=2, policy=3, member_list=4, member=5, plmn=6, snssai=7,
                sst=8, sd=9, min=10, max=11, ded=12, always_sd=True, default="ASCII"),
}
LEAVES = ("BINARY", "ASCII")
NO_SD = 0xFFFFFF

# (mcc, mnc, sst, sd or None, min, max, dedicated)
ONE_SLICE = [("001", "01", 1, 0x000001, 30, 80, 10)]
THREE_SLICES = [
    ("001", "01", 1, None, 10, 50, 5),
    ("310", "410", 2, 0xABCDEF, 20, 60, 0),
    ("208", "93", 3, 0x000010, 0, 100, 0),
]
# The controls of e2sm/tests/rc_leaves.rs (the functions of the same names there).
LEAF_CONTROLS = {
    "TWO_SD": [
        ("001", "01", 1, 0x000001, 30, 60, 10),
        ("310", "410", 2, 0xABCDEF, 20, 40, 0),
    ],
    "TWO_NO_SD": [
        ("001", "01", 1, None, 30, 60, 10),
        ("208", "93", 3, None, 0, 40, 0),
    ],
    "THREE_SD": [
        ("001", "01", 1, 0x000001, 10, 50, 5),
        ("310", "410", 2, 0xABCDEF, 20, 60, 0),
        ("208", "93", 128, 0x000010, 0, 100, 0),
    ],
    "THREE_NO_SD": [
        ("001", "01", 1, None, 10, 50, 5),
        ("310", "410", 2, None, 20, 60, 0),
        ("208", "93", 255, None, 0, 100, 0),
    ],
    # Leaves whose octets fit both forms: binary SST 0x31 and SD 0x313233 are the ASCII
    # digits "1" and "123"; ASCII SST "1" and SD "123" are 1 and 3 octets like binary ones.
    "AMBIGUOUS": [
        ("001", "01", 0x31, 0x313233, 10, 50, 5),
        ("001", "01", 1, 123, 20, 50, 0),
    ],
}


def plmn_bcd(mcc, mnc):
    """TS 24.008 figure 10.5.13 / TS 38.413 clause 9.3.3.5."""
    c = [int(d) for d in mcc]
    n = [int(d) for d in mnc]
    n3 = n[2] if len(n) == 3 else 0xF
    return bytes([c[1] << 4 | c[0], n3 << 4 | c[2], n[1] << 4 | n[0]])


def element(pid, value):
    return {"ranParameter-ID": pid,
            "ranParameter-valueType": ("ranP-Choice-ElementFalse", {"ranParameter-value": value})}


def structure(items):
    return {"sequence-of-ranParameters": items}


def structure_item(pid, items):
    return {"ranParameter-ID": pid,
            "ranParameter-valueType": ("ranP-Choice-Structure",
                                       {"ranParameter-Structure": structure(items)})}


def list_value(items):
    return ("ranP-Choice-List", {"ranParameter-List": {"list-of-ranParameter": items}})


def leaf_octets(leaves, mcc, mnc, sst, sd):
    """PLMN, SST and SD (or None) octets: binary 3GPP octets (TS 38.413 clauses 9.3.3.5,
    9.3.1.24) or ASCII text (mccmnc, decimal SST and SD)."""
    if leaves == "BINARY":
        return (plmn_bcd(mcc, mnc), bytes([sst]),
                None if sd is None else sd.to_bytes(3, "big"))
    return ((mcc + mnc).encode(), str(sst).encode(),
            None if sd is None else str(sd).encode())


def group(ids, s, leaves, wrapped=False):
    mcc, mnc, sst, sd, mn, mx, ded = s
    if sd is None and ids["always_sd"]:
        sd = NO_SD
    plmn, sst_o, sd_o = leaf_octets(leaves, mcc, mnc, sst, sd)
    snssai = [element(ids["sst"], ("valueOctS", sst_o))]
    if sd_o is not None:
        snssai.append(element(ids["sd"], ("valueOctS", sd_o)))
    # LIST items are bare RANParameter-STRUCTUREs: the member and the group carry no ID.
    member_items = [
        element(ids["plmn"], ("valueOctS", plmn)),
        structure_item(ids["snssai"], snssai),
    ]
    # wrapped: the form some xApps send, with the element's ID on one more STRUCTURE item.
    member = structure([structure_item(ids["member"], member_items)] if wrapped else member_items)
    member_list = {"ranParameter-ID": ids["member_list"],
                   "ranParameter-valueType": list_value([member])}
    group_items = [
        structure_item(ids["policy"], [member_list]),
        element(ids["min"], ("valueInt", mn)),
        element(ids["max"], ("valueInt", mx)),
        element(ids["ded"], ("valueInt", ded)),
    ]
    return structure([structure_item(ids["group"], group_items)] if wrapped else group_items)


def message(ids, slices, leaves, wrapped=False):
    """leaves: one form for every slice, or a list of one form per slice."""
    per_slice = leaves if isinstance(leaves, list) else [leaves] * len(slices)
    item = {"ranParameter-ID": ids["list"],
            "ranParameter-valueType": list_value(
                [group(ids, s, l, wrapped) for s, l in zip(slices, per_slice)])}
    return {"ric-controlMessage-formats": ("controlMessage-Format1", {"ranP-List": [item]})}


HEADER = {"ric-controlHeader-formats": ("controlHeader-Format1", {
    "ueID": ("gNB-UEID", {
        "amf-UE-NGAP-ID": 0,
        "guami": {"pLMNIdentity": plmn_bcd("001", "01"), "aMFRegionID": (b"\x00", 8),
                  "aMFSetID": (b"\x00\x00", 10), "aMFPointer": (b"\x00", 6)},
    }),
    "ric-Style-Type": 2,
    "ric-ControlAction-ID": 6,
})}


# A header with every field of our subset set: the largest AMF UE NGAP ID, GUAMI of
# 310/410 with region 0xAB, set 0x3FF, pointer 0x2A, and decision reject.
HEADER_FULL = {"ric-controlHeader-formats": ("controlHeader-Format1", {
    "ueID": ("gNB-UEID", {
        "amf-UE-NGAP-ID": (1 << 40) - 1,
        "guami": {"pLMNIdentity": plmn_bcd("310", "410"), "aMFRegionID": (b"\xab", 8),
                  "aMFSetID": (bytes([0xFF, 0xC0]), 10), "aMFPointer": (bytes([0x2A << 2]), 6)},
    }),
    "ric-Style-Type": 2,
    "ric-ControlAction-ID": 6,
    "ric-ControlDecision": "reject",
})}

# RIC-ControlAction-ID (1..65535, ...) with a value outside the root range: the extension
# bit is set and the value is sent as an unconstrained integer.
HEADER_EXT_ACTION = {"ric-controlHeader-formats": ("controlHeader-Format1", {
    "ueID": HEADER["ric-controlHeader-formats"][1]["ueID"],
    "ric-Style-Type": 2,
    "ric-ControlAction-ID": 70000,
})}


class Encoder:
    """Encodes with the standard module and, unless told not to, checks that our subset
    gives the same bytes; every value must also decode back to itself."""

    def __init__(self, modules, subset_check):
        self.spec = asn1tools.compile_files(modules, "per")
        self.subset = asn1tools.compile_files(SUBSET, "per") if subset_check else None
        self.count = 0

    def encode(self, type_name, value):
        enc = self.spec.encode(type_name, value)
        assert self.spec.decode(type_name, enc) == value, type_name
        if self.subset is not None:
            assert self.subset.encode(type_name, value) == enc, f"subset differs: {type_name}"
        self.count += 1
        return enc.hex()


def rust_const(name, hex_bytes):
    line = f'const {name}: &str = "{hex_bytes}";'
    if len(line) <= 100:
        return line
    return f'const {name}: &str =\n    "{hex_bytes}";'


def modules_from(args):
    paths = args.modules or [p for p in os.environ.get("E2SM_RC_ASN", "").split(":") if p]
    if not paths:
        sys.exit("no ASN.1 module given: pass the standard E2SM-RC v1.03 module (with the "
                 f"E2SM-COMMON-IEs) as arguments or in E2SM_RC_ASN; it comes from {SOURCE}, "
                 "see this script's docstring")
    for p in paths:
        if not os.path.isfile(p):
            sys.exit(f"{p}: no such file (expected the module from {SOURCE})")
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*",
                        help=f"ASN.1 files of E2SM-RC v1.03 and E2SM-COMMON-IEs ({SOURCE})")
    parser.add_argument("--no-subset-check", action="store_true",
                        help="do not check that e2sm/asn1/*-subset.asn encode the same bytes")
    args = parser.parse_args()
    modules = modules_from(args)
    enc = Encoder(modules, not args.no_subset_check)
    print(f"// asn1tools {asn1tools.__version__}, codec 'per' (ALIGNED PER), python "
          f"{sys.version.split()[0]}, compiling {', '.join(os.path.basename(m) for m in modules)}"
          f" from {SOURCE}"
          + ("" if args.no_subset_check else "; our subset encodes the same bytes") + ".")

    print("\n// e2sm/tests/rc_aper.rs (each dialect with its default leaf encoding)")
    print(rust_const("HEADER_2_6", enc.encode("E2SM-RC-ControlHeader", HEADER)))
    for name, value in (("HEADER_FULL", HEADER_FULL), ("HEADER_EXT_ACTION", HEADER_EXT_ACTION)):
        print(rust_const(name, enc.encode("E2SM-RC-ControlHeader", value)))
    for dname, ids in DIALECTS.items():
        for sname, slices in (("1", ONE_SLICE), ("3", THREE_SLICES)):
            msg = message(ids, slices, ids["default"])
            print(rust_const(f"MSG_{dname}_{sname}", enc.encode("E2SM-RC-ControlMessage", msg)))
    wrapped = message(DIALECTS["OAI"], ONE_SLICE, "ASCII", True)
    print(rust_const("MSG_OAI_1_WRAPPED", enc.encode("E2SM-RC-ControlMessage", wrapped)))

    print("\n// e2sm/tests/rc_leaves.rs: every dialect x leaf encoding x control")
    n_leaves = 0
    for dname, ids in DIALECTS.items():
        for leaves in LEAVES:
            for cname, slices in LEAF_CONTROLS.items():
                msg = message(ids, slices, leaves)
                print(rust_const(f"{dname}_{leaves}_{cname}",
                                 enc.encode("E2SM-RC-ControlMessage", msg)))
                n_leaves += 1
    # TWO_SD with the first slice's leaves binary and the second's ASCII.
    for dname, ids in DIALECTS.items():
        msg = message(ids, LEAF_CONTROLS["TWO_SD"], ["BINARY", "ASCII"])
        print(rust_const(f"{dname}_MIXED_TWO_SD", enc.encode("E2SM-RC-ControlMessage", msg)))
        n_leaves += 1
    print(f"\n// {enc.count} vectors in all, {n_leaves} of them for rc_leaves.rs")


if __name__ == "__main__":
    main()
