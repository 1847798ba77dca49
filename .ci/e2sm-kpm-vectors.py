#!/usr/bin/env python3
"""Makes the byte-exact E2SM-KPM APER test vectors of e2sm/tests/kpm_aper.rs.

Compiles OUR module text e2sm/asn1/e2sm-kpm-subset.asn (with e2sm-common-subset.asn) with
asn1tools (codec 'per', i.e. ALIGNED PER) and encodes the messages that the Rust tests build
too (same values, see the functions of the same names there); prints them as Rust constants.
Not run by the tests or CI; it documents how the vectors were made:

    python3 -m venv /tmp/asnvenv && /tmp/asnvenv/bin/pip install asn1tools
    /tmp/asnvenv/bin/python .ci/e2sm-kpm-vectors.py
"""
import os
import sys

import asn1tools

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = [os.path.join(HERE, "..", "e2sm", "asn1", m)
           for m in ("e2sm-common-subset.asn", "e2sm-kpm-subset.asn")]

PLMN_00101 = bytes([0x00, 0xF1, 0x10])
PLMN_310410 = bytes([0x13, 0x00, 0x14])


def name(n):
    return ("measName", n)


EVENT_TRIGGER = {"eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": 1000})}

# Cell-level subscription: per-slice DL throughput, PRB usage, and the wide-band CQI
# distribution (bins 1 and 16) of one NR cell.
SUBSCRIPTION = {
    "measInfoList": [
        {"measType": name("DRB.UEThpDl"), "labelInfoList": [
            {"measLabel": {"sliceID": {"sST": b"\x01", "sD": b"\x00\x00\x01"}}},
            {"measLabel": {"plmnID": PLMN_00101, "sliceID": {"sST": b"\x02"}}},
        ]},
        {"measType": name("RRU.PrbUsedDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
        {"measType": name("CARR.WBCQIDist"), "labelInfoList": [
            {"measLabel": {"distBinX": 1}},
            {"measLabel": {"distBinX": 16, "sUM": "true"}},
        ]},
    ],
    "granulPeriod": 100,
    "cellGlobalID": ("nR-CGI", {"pLMNIdentity": PLMN_00101,
                                "nRCellIdentity": ((0x00BC614E1 << 4).to_bytes(5, "big"), 36)}),
}

ACTION_F1 = {"ric-Style-Type": 1,
             "actionDefinition-formats": ("actionDefinition-Format1", SUBSCRIPTION)}

ACTION_F4 = {"ric-Style-Type": 4, "actionDefinition-formats": ("actionDefinition-Format4", {
    "matchingUeCondList": [
        {"testCondInfo": {"testType": ("sNSSAI", "true"), "testExpr": "equal",
                          "testValue": ("valueOctS", b"\x01\x00\x00\x01")}},
        {"testCondInfo": {"testType": ("cQI", "true"), "testExpr": "greaterthan",
                          "testValue": ("valueInt", 5)}},
    ],
    "subscriptionInfo": {
        "measInfoList": [
            {"measType": name("DRB.UEThpDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
            {"measType": ("measID", 7), "labelInfoList": [{"measLabel": {"avg": "true"}}]},
        ],
        "granulPeriod": 100,
    },
})}

HEADER = {"indicationHeader-formats": ("indicationHeader-Format1", {
    "colletStartTime": (0xE8D4A510).to_bytes(4, "big"),
    "fileFormatversion": "v03.00",
    "senderName": "maestro emulated gNB",
    "senderType": "gNB",
    "vendorName": "Maestro",
})}

MSG_F1 = {"indicationMessage-formats": ("indicationMessage-Format1", {
    "measData": [
        {"measRecord": [("integer", 52000), ("integer", 106), ("noValue", None)]},
        {"measRecord": [("integer", 0)], "incompleteFlag": "true"},
    ],
    "measInfoList": [
        {"measType": name("DRB.UEThpDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
        {"measType": name("RRU.PrbUsedDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
        {"measType": name("RRU.PrbAvailDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
    ],
    "granulPeriod": 100,
})}


def gnb_ueid(amf_ue_ngap_id, plmn, region, set_id, pointer):
    return ("gNB-UEID", {
        "amf-UE-NGAP-ID": amf_ue_ngap_id,
        "guami": {"pLMNIdentity": plmn, "aMFRegionID": (bytes([region]), 8),
                  "aMFSetID": ((set_id << 6).to_bytes(2, "big"), 10),
                  "aMFPointer": (bytes([pointer << 2]), 6)},
    })


MSG_F3 = {"indicationMessage-formats": ("indicationMessage-Format3", {"ueMeasReportList": [
    {"ueID": gnb_ueid(1, PLMN_00101, 1, 1, 0), "measReport": {
        "measData": [{"measRecord": [("integer", 20000), ("integer", 50)]}],
        "measInfoList": [
            {"measType": name("DRB.UEThpDl"), "labelInfoList": [
                {"measLabel": {"sliceID": {"sST": b"\x01", "sD": b"\x00\x00\x01"}}}]},
            {"measType": name("RRU.PrbUsedDl"), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]},
        ],
    }},
    {"ueID": gnb_ueid((1 << 40) - 1, PLMN_310410, 0xAB, 0x3FF, 0x2A), "measReport": {
        "measData": [{"measRecord": [("noValue", None), ("integer", 0)]}],
        "granulPeriod": 100,
    }},
]})}

# REAL values (X.691 clause 15, X.690 clause 8.5): rasn cannot encode them.
MSG_F1_REAL = {"indicationMessage-formats": ("indicationMessage-Format1", {
    "measData": [{"measRecord": [("real", 52.5), ("real", 0.1), ("integer", 7),
                                 ("real", -3.0), ("real", 0.0)]}],
})}

VECTORS = (
    ("EVENT_TRIGGER", "E2SM-KPM-EventTriggerDefinition", EVENT_TRIGGER),
    ("ACTION_F1", "E2SM-KPM-ActionDefinition", ACTION_F1),
    ("ACTION_F4", "E2SM-KPM-ActionDefinition", ACTION_F4),
    ("HEADER", "E2SM-KPM-IndicationHeader", HEADER),
    ("MSG_F1", "E2SM-KPM-IndicationMessage", MSG_F1),
    ("MSG_F3", "E2SM-KPM-IndicationMessage", MSG_F3),
    ("MSG_F1_REAL", "E2SM-KPM-IndicationMessage", MSG_F1_REAL),
)


def main():
    spec = asn1tools.compile_files(MODULES, "per")
    print(f"// asn1tools {asn1tools.__version__}, codec 'per' (ALIGNED PER), python {sys.version.split()[0]}")
    for const, type_name, value in VECTORS:
        enc = spec.encode(type_name, value)
        assert spec.decode(type_name, enc) == value, const
        print(f'const {const}: &str = "{enc.hex()}";')


if __name__ == "__main__":
    main()
