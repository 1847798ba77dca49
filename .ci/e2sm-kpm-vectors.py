#!/usr/bin/env python3
"""Makes the byte-exact E2SM-KPM APER test vectors of e2sm/tests/kpm_aper.rs and
e2sm/tests/kpm_versions.rs with asn1tools (codec 'per', i.e. ALIGNED PER), an ASN.1
implementation independent of ours; prints them as Rust constants. Not run by the tests or
CI; it documents how the vectors were made.

Two sets of modules:

* OUR subset, e2sm/asn1/e2sm-kpm-subset.asn with e2sm-common-subset.asn (the module the rasn
  reference codec is generated from): the constants of tests/kpm_aper.rs.
* The STANDARD O-RAN E2SM-KPM modules of v02.03 and v03.00 (each file holds E2SM-KPM-IEs and
  E2SM-COMMON-IEs): the constants of tests/kpm_versions.rs, per version. They are not in this
  repository (their text carries no licence statement); take them from FlexRIC, commit
  c74bcef0 of https://github.com/openaicellular/flexric:

      git clone https://github.com/openaicellular/flexric && cd flexric
      for v in v02.03 v03.00; do
          git show c74bcef0:src/sm/kpm_sm/kpm_sm_$v/ie/asn/e2sm_kpm_${v}_standard.asn1 \\
              > /tmp/kpm_$v.asn1
      done

  and pass them as arguments or environment variables:

      python3 -m venv /tmp/asnvenv && /tmp/asnvenv/bin/pip install asn1tools
      KPM_V0203_ASN1=/tmp/kpm_v02.03.asn1 KPM_V0300_ASN1=/tmp/kpm_v03.00.asn1 \\
          /tmp/asnvenv/bin/python .ci/e2sm-kpm-vectors.py
      # or: .ci/e2sm-kpm-vectors.py --v0203 /tmp/kpm_v02.03.asn1 --v0300 /tmp/kpm_v03.00.asn1

  Their SHA-256 at that commit are checked (STANDARD_SHA256); another text is used after a
  warning.

Besides printing, the script checks what the Rust code relies on: every message but the
indication header encodes to the same bytes with the subset and both standard modules (the
versions differ only in TimeStamp), and the subset's two header types are the standard
v02.03 and v03.00 headers bit for bit.
"""
import argparse
import datetime
import hashlib
import os
import sys

import asn1tools

HERE = os.path.dirname(os.path.abspath(__file__))
SUBSET = [os.path.join(HERE, "..", "e2sm", "asn1", m)
          for m in ("e2sm-common-subset.asn", "e2sm-kpm-subset.asn")]

# sha256 of src/sm/kpm_sm/kpm_sm_v0X.0Y/ie/asn/e2sm_kpm_v0X.0Y_standard.asn1 at FlexRIC c74bcef0.
STANDARD_SHA256 = {
    "v02.03": "bb0c81b4fd7c31e305d333d0aacfb6618ee5e1aec50c19fd0e338c9e469f0aa7",
    "v03.00": "ab473a9cc60bc3e3b1e32d032ce3b7158175c210282a006d662b1c48bc8a573a",
}

PLMN_00101 = bytes([0x00, 0xF1, 0x10])
PLMN_310410 = bytes([0x13, 0x00, 0x14])

# RFC 5905 clause 6: NTP seconds count from 1900-01-01T00:00:00Z (era 0).
NTP_EPOCH = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def ntp64(when):
    """The 64-bit NTP timestamp (seconds, fraction) of an aware datetime in era 0."""
    delta = when - NTP_EPOCH
    seconds = delta.days * 86400 + delta.seconds
    fraction = (delta.microseconds << 32) // 1_000_000
    assert 0 <= seconds < 1 << 32
    return seconds, fraction


def unix_micros(when):
    delta = when - UNIX_EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


NEW_YEAR_2024 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
assert ntp64(NEW_YEAR_2024) == (3_913_056_000, 0)
HALF_PAST = NEW_YEAR_2024 + datetime.timedelta(milliseconds=500)  # fraction 2^31
MIDYEAR = datetime.datetime(2024, 6, 30, 12, 34, 56, 250_000, tzinfo=datetime.timezone.utc)
FLEXRIC_TIME = NEW_YEAR_2024 + datetime.timedelta(milliseconds=250)


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


def header(time_stamp, version_text=None, strings=True, **names):
    f1 = {"colletStartTime": time_stamp}
    if strings:
        f1.update({"fileFormatversion": version_text, "senderName": "maestro emulated gNB",
                   "senderType": "gNB", "vendorName": "Maestro"})
    f1.update(names)
    return {"indicationHeader-formats": ("indicationHeader-Format1", f1)}


def ntp_octets(when, octets):
    seconds, fraction = ntp64(when)
    if octets == 4:  # v02.03: the seconds, the first 4 octets of the 64-bit format
        return seconds.to_bytes(4, "big")
    return ((seconds << 32) | fraction).to_bytes(8, "big")


# The subset's header vector of tests/kpm_aper.rs: a 4-octet (v02.03) TimeStamp.
HEADER = header((0xE8D4A510).to_bytes(4, "big"), "v03.00")

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

ET, AD, IH, IM = ("E2SM-KPM-EventTriggerDefinition", "E2SM-KPM-ActionDefinition",
                  "E2SM-KPM-IndicationHeader", "E2SM-KPM-IndicationMessage")

# Same bytes in every module (asserted).
COMMON = (
    ("EVENT_TRIGGER", ET, EVENT_TRIGGER),
    ("ACTION_F1", AD, ACTION_F1),
    ("ACTION_F4", AD, ACTION_F4),
    ("MSG_F1", IM, MSG_F1),
    ("MSG_F3", IM, MSG_F3),
)

SUBSET_VECTORS = (
    ("EVENT_TRIGGER", ET, EVENT_TRIGGER),
    ("ACTION_F1", AD, ACTION_F1),
    ("ACTION_F4", AD, ACTION_F4),
    ("HEADER", "E2SM-KPM-IndicationHeader-V0203", HEADER),
    ("MSG_F1", IM, MSG_F1),
    ("MSG_F3", IM, MSG_F3),
    ("MSG_F1_REAL", IM, MSG_F1_REAL),
)


def standard_vectors(version):
    """(name, type, value) of tests/kpm_versions.rs for one version ('v02.03' / 'v03.00')."""
    octets = 4 if version == "v02.03" else 8
    prefix = "V0203_" if version == "v02.03" else "V0300_"
    out = [(prefix + c, t, v) for c, t, v in COMMON]
    out.append((prefix + "HEADER", IH, header(ntp_octets(HALF_PAST, octets), version)))
    out.append((prefix + "HEADER_BARE", IH, header(ntp_octets(MIDYEAR, octets), strings=False)))
    if version == "v03.00":
        # FlexRIC's v03.00 agent: Unix microseconds, big-endian, in the 8 octets; its sender
        # strings (examples/emulator/agent/sm_kpm.c, fill_rnd_kpm_ind_hdr_frm_1).
        us = unix_micros(FLEXRIC_TIME)
        out.append((prefix + "HEADER_FLEXRIC_US", IH, header(
            us.to_bytes(8, "big"), strings=False, senderName="My OAI-MONO", senderType="MONO",
            vendorName="OAI")))
    return out


def encode(spec, const, type_name, value):
    enc = spec.encode(type_name, value)
    assert spec.decode(type_name, enc) == value, const
    return enc


def check_timestamp_size(const, type_name, value, octets):
    """asn1tools writes OCTET STRING (SIZE(n)) values as given, whatever their length: check
    the TimeStamp size here, or a wrong-size vector would slip through."""
    if type_name.startswith(IH):
        time_stamp = value["indicationHeader-formats"][1]["colletStartTime"]
        assert len(time_stamp) == octets, (const, len(time_stamp), octets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--v0203", default=os.environ.get("KPM_V0203_ASN1"),
                        help="standard E2SM-KPM v02.03 module (env KPM_V0203_ASN1)")
    parser.add_argument("--v0300", default=os.environ.get("KPM_V0300_ASN1"),
                        help="standard E2SM-KPM v03.00 module (env KPM_V0300_ASN1)")
    args = parser.parse_args()
    if not args.v0203 or not args.v0300:
        parser.error("the standard modules are needed: --v0203/--v0300 or KPM_V0203_ASN1/"
                     "KPM_V0300_ASN1 (see the docstring for where they come from)")
    paths = {"v02.03": args.v0203, "v03.00": args.v0300}
    for version, path in paths.items():
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != STANDARD_SHA256[version]:
            print(f"// WARNING: {path} is not FlexRIC c74bcef0's {version} module "
                  f"(sha256 {digest})", file=sys.stderr)

    subset = asn1tools.compile_files(SUBSET, "per")
    standard = {v: asn1tools.compile_files([p], "per") for v, p in paths.items()}

    print(f"// asn1tools {asn1tools.__version__}, codec 'per' (ALIGNED PER), "
          f"python {sys.version.split()[0]}")
    print("// --- tests/kpm_aper.rs: our subset (e2sm/asn1/e2sm-kpm-subset.asn)")
    for const, type_name, value in SUBSET_VECTORS:
        check_timestamp_size(const, type_name, value, 4)
        enc = encode(subset, const, type_name, value)
        # Bit-compatible with the standard modules: HEADER is a v02.03 header.
        std_version, std_type = ("v02.03", IH) if const == "HEADER" else ("v03.00", type_name)
        for version in ("v02.03", "v03.00") if const != "HEADER" else (std_version,):
            assert encode(standard[version], const, std_type, value) == enc, (const, version)
        print(f'const {const}: &str = "{enc.hex()}";')

    # The subset's v03.00 header type is the standard v03.00 header.
    for const, type_name, value in standard_vectors("v03.00"):
        check_timestamp_size(const, type_name, value, 8)
        if type_name == IH:
            assert encode(subset, const, IH, value) == encode(standard["v03.00"], const, IH, value)

    print("// --- tests/kpm_versions.rs: the standard modules, FlexRIC c74bcef0")
    print(f"// NTP {ntp64(HALF_PAST)} = {HALF_PAST.isoformat()}, "
          f"NTP {ntp64(MIDYEAR)} = {MIDYEAR.isoformat()}, "
          f"FlexRIC Unix us {unix_micros(FLEXRIC_TIME)} = {FLEXRIC_TIME.isoformat()}")
    encoded = {}
    for version in ("v02.03", "v03.00"):
        for const, type_name, value in standard_vectors(version):
            check_timestamp_size(const, type_name, value, 4 if version == "v02.03" else 8)
            enc = encode(standard[version], const, type_name, value)
            encoded[const] = enc
            print(f'const {const}: &str = "{enc.hex()}";')
    for const, _, _ in COMMON:
        assert encoded["V0203_" + const] == encoded["V0300_" + const], const


if __name__ == "__main__":
    main()
