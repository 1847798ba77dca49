#!/usr/bin/env python3
"""Makes the byte-exact E2SM-RC APER test vectors of e2sm/tests/rc_aper.rs.

Compiles OUR module text e2sm/asn1/e2sm-rc-subset.asn (with e2sm-common-subset.asn) with asn1tools (codec 'per', i.e.
ALIGNED PER) and encodes the control header and the slice PRB quota messages (1 and 3
slices, O-RAN and OAI RAN parameter ID dialects) that the Rust tests encode too; prints them
as Rust constants. Not run by the tests or CI; it documents how the vectors were made:

    python3 -m venv /tmp/asnvenv && /tmp/asnvenv/bin/pip install asn1tools
    /tmp/asnvenv/bin/python .ci/e2sm-vectors.py
"""
import os
import sys

import asn1tools

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = [os.path.join(HERE, "..", "e2sm", "asn1", m)
          for m in ("e2sm-common-subset.asn", "e2sm-rc-subset.asn")]

# RAN parameter IDs of E2SM-RC clause 8.4.3.6, see RanParamDialect in e2sm/src/rc_aper.rs.
DIALECTS = {
    "ORAN": dict(list=1, group=2, policy=3, member_list=5, member=6, plmn=7, snssai=8,
                 sst=9, sd=10, min=11, max=12, ded=13, ascii=False),
    "OAI": dict(list=1, group=2, policy=3, member_list=4, member=5, plmn=6, snssai=7,
                sst=8, sd=9, min=10, max=11, ded=12, ascii=True),
}

# (mcc, mnc, sst, sd or None, min, max, dedicated)
ONE_SLICE = [("001", "01", 1, 0x000001, 30, 80, 10)]
THREE_SLICES = [
    ("001", "01", 1, None, 10, 50, 5),
    ("310", "410", 2, 0xABCDEF, 20, 60, 0),
    ("208", "93", 3, 0x000010, 0, 100, 0),
]


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


def group(ids, s, wrapped=False):
    mcc, mnc, sst, sd, mn, mx, ded = s
    if ids["ascii"]:
        # OAI/FlexRIC: PLMN, SST and SD as ASCII text; SD always, 0xFFFFFF = no SD.
        plmn = (mcc + mnc).encode()
        snssai = [element(ids["sst"], ("valueOctS", str(sst).encode())),
                  element(ids["sd"], ("valueOctS", str(0xFFFFFF if sd is None else sd).encode()))]
    else:
        plmn = plmn_bcd(mcc, mnc)
        snssai = [element(ids["sst"], ("valueOctS", bytes([sst])))]
        if sd is not None:
            snssai.append(element(ids["sd"], ("valueOctS", sd.to_bytes(3, "big"))))
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


def message(ids, slices, wrapped=False):
    item = {"ranParameter-ID": ids["list"],
            "ranParameter-valueType": list_value([group(ids, s, wrapped) for s in slices])}
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


def main():
    spec = asn1tools.compile_files(MODULE, "per")
    print(f"// asn1tools {asn1tools.__version__}, codec 'per' (ALIGNED PER), python {sys.version.split()[0]}")
    hdr = spec.encode("E2SM-RC-ControlHeader", HEADER)
    assert spec.decode("E2SM-RC-ControlHeader", hdr) == HEADER
    print(f'const HEADER_2_6: &str = "{hdr.hex()}";')
    for name, value in (("HEADER_FULL", HEADER_FULL), ("HEADER_EXT_ACTION", HEADER_EXT_ACTION)):
        enc = spec.encode("E2SM-RC-ControlHeader", value)
        assert spec.decode("E2SM-RC-ControlHeader", enc) == value
        print(f'const {name}: &str = "{enc.hex()}";')
    for dname, ids in DIALECTS.items():
        for sname, slices in (("1", ONE_SLICE), ("3", THREE_SLICES)):
            msg = message(ids, slices)
            enc = spec.encode("E2SM-RC-ControlMessage", msg)
            assert spec.decode("E2SM-RC-ControlMessage", enc) == msg
            print(f'const MSG_{dname}_{sname}: &str = "{enc.hex()}";')
    wrapped = spec.encode("E2SM-RC-ControlMessage", message(DIALECTS["OAI"], ONE_SLICE, True))
    print(f'const MSG_OAI_1_WRAPPED: &str = "{wrapped.hex()}";')


if __name__ == "__main__":
    main()
