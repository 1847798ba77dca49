/* maestro_flexric.h: the small C shim between FlexRIC's xApp C API and Rust.
 *
 * Plain C types only (no FlexRIC header needed to read them): callbacks that carry a
 * user-data pointer (FlexRIC's own callbacks carry none), flat copies of the MAC stats and
 * KPM arrays (lengths checked before any pointer is read), and builders of the nested
 * E2SM-RC and SLICE SM control structs. Every function returns 0 on success and a negative
 * value with a message in `err` otherwise.
 */
#ifndef MAESTRO_FLEXRIC_SHIM_H
#define MAESTRO_FLEXRIC_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One UE of a MAC stats indication (FlexRIC MAC SM, RAN function 142). */
typedef struct {
  uint32_t rnti;
  uint8_t wb_cqi;
  uint8_t dl_mcs1;
  float dl_bler;
  uint64_t dl_aggr_tbs;
  uint64_t dl_curr_tbs;
  uint64_t dl_sched_rb;
  uint32_t dl_aggr_prb;
  uint16_t frame;
  uint16_t slot;
} mf_mac_ue_t;

/* Called on FlexRIC's thread once per MAC indication; `ues` is valid during the call only. */
typedef void (*mf_mac_cb)(void* user, int64_t tstamp_us, const mf_mac_ue_t* ues, size_t len);

/* One KPM measurement value of one UE (E2SM-KPM v3 indication message format 3). */
typedef struct {
  uint32_t ue;   /* index of the UE report in the indication */
  uint64_t amf_ue_ngap_id; /* gNB UE id when the UE id is of the gNB type, else 0 */
  uint32_t meas; /* index of the measurement name given at subscription */
  double value;
} mf_kpm_val_t;

typedef void (*mf_kpm_cb)(void* user, const mf_kpm_val_t* vals, size_t len);

/* The matching condition of a KPM REPORT style 4 subscription (E2SM-KPM v3.00 clause
 * 8.2.1.2.4, action definition format 4; Test Condition Information, clause 8.3.22). */
enum {
  MF_KPM_COND_SNSSAI = 0, /* TestCond-Type sNSSAI (E2SM-KPM v2.03 and v3.00 only) */
  MF_KPM_COND_CQI = 1,    /* TestCond-Type cQI (E2SM-KPM v2.03 and v3.00 only) */
};
enum {
  MF_KPM_EXPR_EQUAL = 0,       /* TestCond-Expression equal */
  MF_KPM_EXPR_GREATERTHAN = 1, /* TestCond-Expression greaterthan */
};
enum {
  MF_KPM_VALUE_INT = 0,    /* TestCond-Value valueInt */
  MF_KPM_VALUE_OCTETS = 1, /* TestCond-Value valueOctS */
};

typedef struct {
  uint32_t cond_type;  /* MF_KPM_COND_* */
  uint32_t expr;       /* MF_KPM_EXPR_* */
  uint32_t value_kind; /* MF_KPM_VALUE_* */
  int64_t int_value;   /* when MF_KPM_VALUE_INT */
  uint8_t octets[8];   /* when MF_KPM_VALUE_OCTETS: the first n_octets bytes */
  size_t n_octets;     /* 1..=8 */
} mf_kpm_cond_t;

/* A RAN parameter tree node for E2SM-RC control message format 1 (E2SM-RC clause 9.3.11). */
enum {
  MF_RP_ELEMENT_INT = 0,   /* ELEMENT (key flag false), INTEGER */
  MF_RP_ELEMENT_OCTETS = 1, /* ELEMENT (key flag false), OCTET STRING */
  MF_RP_STRUCTURE = 2,     /* STRUCTURE: children are its items */
  MF_RP_LIST = 3,          /* LIST: children are list items (STRUCTUREs, their id ignored) */
};

typedef struct {
  uint32_t id;
  uint32_t kind;
  int64_t int_val;
  const uint8_t* bytes;
  size_t len;
  uint32_t first_child; /* index into the node array */
  uint32_t n_children;
} mf_rp_node_t;

/* One slice of a SLICE SM (RAN function 145) STATIC configuration: PRB range [low, high]. */
typedef struct {
  uint32_t id;
  uint32_t pos_low;
  uint32_t pos_high;
  const char* label;
} mf_static_slice_t;

/* Starts FlexRIC's xApp library towards the near-RT RIC at `ip` (port 36422, fixed by
 * FlexRIC); `conf_file` must exist (FlexRIC reads DB_DIR from it), `libs_dir` holds the SM
 * plugins. Blocks until the E42 SETUP succeeded. Call once per process. */
int mf_init(const char* ip, const char* conf_file, const char* libs_dir, char* err, size_t errlen);

/* The node array handle: FlexRIC's e2_node_arr_t, owned by the caller, freed with
 * mf_free_nodes. */
int mf_subscribe_mac(const void* node_id, uint32_t period_ms, mf_mac_cb cb, void* user,
                     char* err, size_t errlen);
/* KPM REPORT style 4 (action definition format 4 with the matching condition `cond`, then
 * format 1 with the measurement names), indication message format 3. */
int mf_subscribe_kpm(const void* node_id, uint32_t period_ms, const char* const* names,
                     size_t n_names, const mf_kpm_cond_t* cond, mf_kpm_cb cb, void* user,
                     char* err, size_t errlen);

/* The REPORT styles a decoded KPM RAN function definition advertises (E2SM-KPM clause
 * 8.2.2.1, RIC REPORT Style List): `rf` is a `sm_ran_function_t*` of a node entry (FlexRIC
 * API with decoded RAN functions, MF_RF_DECODED). Writes one line per style into `buf`:
 * "<style type>\t<action definition format>\t<measurement name>\t...\n" (both numbers as in
 * the standard, from 1). Returns the number of styles, -1 when `rf` is no KPM definition,
 * -2 when `buf` is too small, -3 when this FlexRIC hands out raw definitions only. */
int mf_kpm_report_styles(const void* rf, char* buf, size_t buflen);

/* The CONTROL styles and actions a decoded RC RAN function definition advertises (E2SM-RC
 * clause 9.2.2.5, RAN Function Definition for CONTROL): `rf` as above. Writes one line per
 * action into `buf`: "<style type>\t<control action id>\n". Returns the number of lines (0:
 * no CONTROL part), -1 when `rf` is no RC definition, -2 when `buf` is too small, -3 when
 * this FlexRIC hands out raw definitions only. */
int mf_rc_control_actions(const void* rf, char* buf, size_t buflen);
void mf_unsubscribe(int handle);

/* E2SM-RC control, header format 1 (style, action, a placeholder gNB UE id), message
 * format 1 with the RAN parameter tree `nodes[roots..]`: the first `n_roots` nodes are the
 * top-level parameters. */
int mf_rc_control(const void* node_id, uint32_t style, uint16_t action, const mf_rp_node_t* nodes,
                  size_t n_nodes, size_t n_roots, char* err, size_t errlen);

/* SLICE SM add/modify of STATIC DL slices. */
int mf_slice_static(const void* node_id, const mf_static_slice_t* slices, size_t n,
                    char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
