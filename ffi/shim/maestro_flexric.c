/* maestro_flexric.c: see maestro_flexric.h. Compiled by ffi/build.rs with the FlexRIC
 * version macros (E2AP_Vx, KPM_Vx_xx) the installed library was built with. */
#include "maestro_flexric.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xApp/e42_xapp_api.h"
#include "sm/rc_sm/ie/ir/lst_ran_param.h"
#include "sm/rc_sm/ie/ir/ran_param_list.h"
#include "sm/rc_sm/ie/ir/ran_param_struct.h"

/* RAN function ids (FlexRIC's *_sm_id.h define them as non-static globals, which cannot be
 * included twice): MAC stats 142, SLICE 145 (FlexRIC), KPM 2 and RC 3 (O-RAN, as FlexRIC
 * numbers them). */
enum { MF_SM_KPM = 2, MF_SM_RC = 3, MF_SM_MAC = 142, MF_SM_SLICE = 145 };

#define MF_ERR(...) do { if (err != NULL && errlen > 0) snprintf(err, errlen, __VA_ARGS__); } while (0)

/* FlexRIC's callbacks carry no user data: one slot per service model, set before the
 * subscription is made and read on FlexRIC's thread. */
static pthread_mutex_t mf_mtx = PTHREAD_MUTEX_INITIALIZER;
static mf_mac_cb mf_mac_fn = NULL;
static void* mf_mac_user = NULL;
static mf_kpm_cb mf_kpm_fn = NULL;
static void* mf_kpm_user = NULL;
static bool mf_started = false;

/* ------------------------------------------------------------------------------------ */
/* init                                                                                  */
/* ------------------------------------------------------------------------------------ */

int mf_init(const char* ip, const char* conf_file, const char* libs_dir, char* err, size_t errlen)
{
  if (ip == NULL || conf_file == NULL || libs_dir == NULL) {
    MF_ERR("null argument");
    return -1;
  }
  if (strlen(conf_file) >= FR_CONF_FILE_LEN || strlen(libs_dir) >= FR_CONF_FILE_LEN) {
    MF_ERR("conf_file and libs_dir must be shorter than %d bytes", FR_CONF_FILE_LEN);
    return -1;
  }
  pthread_mutex_lock(&mf_mtx);
  bool again = mf_started;
  mf_started = true;
  pthread_mutex_unlock(&mf_mtx);
  if (again) {
    MF_ERR("FlexRIC's xApp library can be initialised once per process");
    return -2;
  }
  /* Filled directly: FlexRIC never sees our argv. The ip string must outlive the library
   * (fr_args_t keeps the pointer), so it is duplicated and never freed. */
  fr_args_t args;
  memset(&args, 0, sizeof(args));
  args.ip = strdup(ip);
  if (args.ip == NULL) {
    MF_ERR("out of memory");
    return -1;
  }
  strncpy(args.conf_file, conf_file, FR_CONF_FILE_LEN - 1);
  strncpy(args.libs_dir, libs_dir, FR_CONF_FILE_LEN - 1);
  init_xapp_api(&args);
  return 0;
}

/* ------------------------------------------------------------------------------------ */
/* MAC stats                                                                             */
/* ------------------------------------------------------------------------------------ */

static void mf_mac_trampoline(sm_ag_if_rd_t const* rd)
{
  if (rd == NULL || rd->type != INDICATION_MSG_AGENT_IF_ANS_V0 || rd->ind.type != MAC_STATS_V0)
    return;
  pthread_mutex_lock(&mf_mtx);
  mf_mac_cb fn = mf_mac_fn;
  void* user = mf_mac_user;
  pthread_mutex_unlock(&mf_mtx);
  if (fn == NULL)
    return;
  mac_ind_msg_t const* msg = &rd->ind.mac.msg;
  /* The MAC SM decoder leaves ue_stats uninitialised when len_ue_stats == 0: the length is
   * checked before the pointer is read. */
  uint32_t const len = msg->len_ue_stats;
  if (len == 0 || msg->ue_stats == NULL) {
    fn(user, msg->tstamp, NULL, 0);
    return;
  }
  mf_mac_ue_t* ues = calloc(len, sizeof(mf_mac_ue_t));
  if (ues == NULL)
    return;
  for (uint32_t i = 0; i < len; ++i) {
    mac_ue_stats_impl_t const* s = &msg->ue_stats[i];
    ues[i].rnti = s->rnti;
    ues[i].wb_cqi = s->wb_cqi;
    ues[i].dl_mcs1 = s->dl_mcs1;
    ues[i].dl_bler = s->dl_bler;
    ues[i].dl_aggr_tbs = s->dl_aggr_tbs;
    ues[i].dl_curr_tbs = s->dl_curr_tbs;
    ues[i].dl_sched_rb = s->dl_sched_rb;
    ues[i].dl_aggr_prb = s->dl_aggr_prb;
    ues[i].frame = s->frame;
    ues[i].slot = s->slot;
  }
  fn(user, msg->tstamp, ues, len);
  free(ues);
}

static const char* mf_interval(uint32_t period_ms)
{
  switch (period_ms) {
    case 1: return "1_ms";
    case 2: return "2_ms";
    case 5: return "5_ms";
    case 10: return "10_ms";
    /* FlexRIC's MAC SM (mac_sm_ric.c) accepts only these four; anything else hits an
     * assert (or, built with NDEBUG, a 0 ms trigger that never fires). */
    default: return NULL;
  }
}

int mf_subscribe_mac(const void* node_id, uint32_t period_ms, mf_mac_cb cb, void* user,
                     char* err, size_t errlen)
{
  const char* inter = mf_interval(period_ms);
  if (node_id == NULL || cb == NULL || inter == NULL) {
    MF_ERR("MAC subscription needs a node, a callback and a period of 1, 2, 5 or 10 ms");
    return -1;
  }
  pthread_mutex_lock(&mf_mtx);
  mf_mac_fn = cb;
  mf_mac_user = user;
  pthread_mutex_unlock(&mf_mtx);
  sm_ans_xapp_t ans = report_sm_xapp_api((global_e2_node_id_t*)node_id, MF_SM_MAC, (void*)inter,
                                         mf_mac_trampoline);
  if (!ans.success) {
    MF_ERR("MAC subscription refused: %s", ans.u.reason != NULL ? ans.u.reason : "no reason");
    return -1;
  }
  return ans.u.handle;
}

/* ------------------------------------------------------------------------------------ */
/* KPM (E2SM-KPM v3.00, action definition format 4, indication message format 3)        */
/* ------------------------------------------------------------------------------------ */

#if defined(KPM_V3_00) || defined(KPM_V2_03)
static void mf_kpm_trampoline(sm_ag_if_rd_t const* rd)
{
  if (rd == NULL || rd->type != INDICATION_MSG_AGENT_IF_ANS_V0 || rd->ind.type != KPM_STATS_V3_0)
    return;
  pthread_mutex_lock(&mf_mtx);
  mf_kpm_cb fn = mf_kpm_fn;
  void* user = mf_kpm_user;
  pthread_mutex_unlock(&mf_mtx);
  if (fn == NULL)
    return;
  kpm_ind_msg_t const* msg = &rd->ind.kpm.ind.msg;
  if (msg->type != FORMAT_3_INDICATION_MESSAGE)
    return;
  kpm_ind_msg_format_3_t const* f3 = &msg->frm_3;
  if (f3->ue_meas_report_lst_len == 0 || f3->meas_report_per_ue == NULL) {
    fn(user, NULL, 0);
    return;
  }
  size_t total = 0;
  for (size_t u = 0; u < f3->ue_meas_report_lst_len; ++u) {
    kpm_ind_msg_format_1_t const* f1 = &f3->meas_report_per_ue[u].ind_msg_format_1;
    if (f1->meas_data_lst != NULL)
      total += f1->meas_data_lst_len;
  }
  if (total == 0) {
    fn(user, NULL, 0);
    return;
  }
  mf_kpm_val_t* vals = calloc(total, sizeof(mf_kpm_val_t));
  if (vals == NULL)
    return;
  size_t n = 0;
  for (size_t u = 0; u < f3->ue_meas_report_lst_len; ++u) {
    meas_report_per_ue_t const* r = &f3->meas_report_per_ue[u];
    kpm_ind_msg_format_1_t const* f1 = &r->ind_msg_format_1;
    if (f1->meas_data_lst == NULL)
      continue;
    uint64_t ue_id = r->ue_meas_report_lst.type == GNB_UE_ID_E2SM ? r->ue_meas_report_lst.gnb.amf_ue_ngap_id : 0;
    for (size_t m = 0; m < f1->meas_data_lst_len && n < total; ++m) {
      meas_data_lst_t const* d = &f1->meas_data_lst[m];
      if (d->meas_record_len == 0 || d->meas_record_lst == NULL)
        continue;
      meas_record_lst_t const* rec = &d->meas_record_lst[0];
      double v;
      if (rec->value == INTEGER_MEAS_VALUE)
        v = (double)rec->int_val;
      else if (rec->value == REAL_MEAS_VALUE)
        v = rec->real_val;
      else
        continue;
      vals[n].ue = (uint32_t)u;
      vals[n].amf_ue_ngap_id = ue_id;
      vals[n].meas = (uint32_t)m;
      vals[n].value = v;
      n++;
    }
  }
  fn(user, vals, n);
  free(vals);
}

static byte_array_t mf_ba_str(const char* s)
{
  byte_array_t ba = {0};
  size_t len = strlen(s);
  ba.buf = calloc(len + 1, 1);
  if (ba.buf != NULL) {
    memcpy(ba.buf, s, len);
    ba.len = len;
  }
  return ba;
}

#endif /* KPM_V3_00 || KPM_V2_03 */

int mf_subscribe_kpm(const void* node_id, uint32_t period_ms, const char* const* names,
                     size_t n_names, const mf_kpm_cond_t* mc, mf_kpm_cb cb, void* user,
                     char* err, size_t errlen)
{
#if !defined(KPM_V3_00) && !defined(KPM_V2_03)
  /* E2SM-KPM v2.01 TestCond-Type has neither sNSSAI nor cQI, and FlexRIC's v2.01 encoder
   * aborts the process on them: refused here, before anything reaches FlexRIC. */
  (void)node_id; (void)period_ms; (void)names; (void)n_names; (void)mc; (void)cb; (void)user;
  (void)mf_kpm_fn; (void)mf_kpm_user;
  MF_ERR("KPM style 4 subscription needs FlexRIC built with KPM_V2_03 or KPM_V3_00");
  return -1;
#else
  if (node_id == NULL || cb == NULL || names == NULL || n_names == 0 || period_ms == 0 || mc == NULL) {
    MF_ERR("KPM subscription needs a node, a callback, measurement names, a condition and a period");
    return -1;
  }
  if ((mc->cond_type != MF_KPM_COND_SNSSAI && mc->cond_type != MF_KPM_COND_CQI)
      || (mc->expr != MF_KPM_EXPR_EQUAL && mc->expr != MF_KPM_EXPR_GREATERTHAN)
      || (mc->value_kind != MF_KPM_VALUE_INT && mc->value_kind != MF_KPM_VALUE_OCTETS)
      || (mc->value_kind == MF_KPM_VALUE_OCTETS && (mc->n_octets == 0 || mc->n_octets > sizeof(mc->octets)))) {
    MF_ERR("unsupported KPM matching condition (type %u, expression %u, value kind %u, %zu octets)",
           mc->cond_type, mc->expr, mc->value_kind, mc->n_octets);
    return -1;
  }
  pthread_mutex_lock(&mf_mtx);
  mf_kpm_fn = cb;
  mf_kpm_user = user;
  pthread_mutex_unlock(&mf_mtx);

  kpm_sub_data_t sub = {0};
  /* E2SM-KPM v3.00 clause 8.2.1.1.1: event trigger format 1, reporting period. */
  sub.ev_trg_def.type = FORMAT_1_RIC_EVENT_TRIGGER;
  sub.ev_trg_def.kpm_ric_event_trigger_format_1.report_period_ms = period_ms;
  sub.sz_ad = 1;
  sub.ad = calloc(1, sizeof(kpm_act_def_t));
  if (sub.ad == NULL) {
    MF_ERR("out of memory");
    return -1;
  }
  /* Clause 8.2.1.2.4: action definition format 4, one matching condition (clause 8.3.22:
   * test type, expression, value; the caller chose them for this node and FlexRIC), then
   * format 1 with the measurement names. */
  sub.ad->type = FORMAT_4_ACTION_DEFINITION;
  kpm_act_def_format_4_t* f4 = &sub.ad->frm_4;
  f4->matching_cond_lst_len = 1;
  f4->matching_cond_lst = calloc(1, sizeof(matching_condition_format_4_lst_t));
  test_cond_e* cond = calloc(1, sizeof(test_cond_e));
  test_cond_value_t* cval = calloc(1, sizeof(test_cond_value_t));
  int64_t* ival = NULL;
  byte_array_t* oval = NULL;
  if (mc->value_kind == MF_KPM_VALUE_INT) {
    ival = malloc(sizeof(int64_t));
  } else {
    oval = calloc(1, sizeof(byte_array_t));
    if (oval != NULL) {
      oval->buf = calloc(mc->n_octets, 1);
      if (oval->buf == NULL) {
        free(oval);
        oval = NULL;
      }
    }
  }
  kpm_act_def_format_1_t* f1 = &f4->action_def_format_1;
  f1->meas_info_lst = calloc(n_names, sizeof(meas_info_format_1_lst_t));
  if (f4->matching_cond_lst == NULL || cond == NULL || cval == NULL || (ival == NULL && oval == NULL)
      || f1->meas_info_lst == NULL) {
    free(cond); free(cval); free(ival);
    if (oval != NULL) { free(oval->buf); free(oval); }
    free_kpm_sub_data(&sub);
    MF_ERR("out of memory");
    return -1;
  }
  test_info_lst_t* ti = &f4->matching_cond_lst[0].test_info_lst;
  if (mc->cond_type == MF_KPM_COND_SNSSAI) {
    ti->test_cond_type = S_NSSAI_TEST_COND_TYPE;
    ti->S_NSSAI = TRUE_TEST_COND_TYPE;
  } else {
    ti->test_cond_type = CQI_TEST_COND_TYPE;
    ti->CQI = TRUE_TEST_COND_TYPE;
  }
  *cond = mc->expr == MF_KPM_EXPR_EQUAL ? EQUAL_TEST_COND : GREATERTHAN_TEST_COND;
  ti->test_cond = cond;
  if (ival != NULL) {
    cval->type = INTEGER_TEST_COND_VALUE;
    *ival = mc->int_value;
    cval->int_value = ival;
  } else {
    cval->type = OCTET_STRING_TEST_COND_VALUE;
    memcpy(oval->buf, mc->octets, mc->n_octets);
    oval->len = mc->n_octets;
    cval->octet_string_value = oval;
  }
  ti->test_cond_value = cval;

  f1->meas_info_lst_len = n_names;
  for (size_t i = 0; i < n_names; ++i) {
    meas_info_format_1_lst_t* mi = &f1->meas_info_lst[i];
    mi->meas_type.type = NAME_MEAS_TYPE;
    mi->meas_type.name = mf_ba_str(names[i] != NULL ? names[i] : "");
    mi->label_info_lst_len = 1;
    mi->label_info_lst = calloc(1, sizeof(label_info_lst_t));
    if (mi->label_info_lst != NULL) {
      mi->label_info_lst[0].noLabel = calloc(1, sizeof(enum_value_e));
      if (mi->label_info_lst[0].noLabel != NULL)
        *mi->label_info_lst[0].noLabel = TRUE_ENUM_VALUE;
    }
  }
  f1->gran_period_ms = period_ms;
  f1->cell_global_id = NULL;

  sm_ans_xapp_t ans = report_sm_xapp_api((global_e2_node_id_t*)node_id, MF_SM_KPM, &sub, mf_kpm_trampoline);
  free_kpm_sub_data(&sub);
  if (!ans.success) {
    MF_ERR("KPM subscription refused: %s", ans.u.reason != NULL ? ans.u.reason : "no reason");
    return -1;
  }
  return ans.u.handle;
#endif
}

/* ------------------------------------------------------------------------------------ */
/* Advertised KPM REPORT styles (decoded RAN function definitions only)                  */
/* ------------------------------------------------------------------------------------ */

#ifdef MF_RF_DECODED
/* `rf_ptr` as the decoded RAN function `id` holding a definition of `type`, with `buf`
 * emptied; NULL when it is not one or the arguments are unusable (the listers return -1). */
static sm_ran_function_t const* mf_decoded_def(const void* rf_ptr, uint16_t id,
                                               ran_func_def_e type, char* buf, size_t buflen)
{
  if (rf_ptr == NULL || buf == NULL || buflen == 0)
    return NULL;
  sm_ran_function_t const* rf = rf_ptr;
  if (rf->id != id || rf->defn.type != type)
    return NULL;
  buf[0] = '\0';
  return rf;
}
#endif

int mf_kpm_report_styles(const void* rf_ptr, char* buf, size_t buflen)
{
#ifndef MF_RF_DECODED
  (void)rf_ptr; (void)buf; (void)buflen;
  return -3;
#else
  sm_ran_function_t const* rf = mf_decoded_def(rf_ptr, MF_SM_KPM, KPM_RAN_FUNC_DEF_E, buf, buflen);
  if (rf == NULL)
    return -1;
  kpm_ran_function_def_t const* d = &rf->defn.kpm;
  size_t used = 0;
  size_t const n = d->ric_report_style_list != NULL ? d->sz_ric_report_style_list : 0;
  for (size_t i = 0; i < n; ++i) {
    ric_report_style_item_t const* st = &d->ric_report_style_list[i];
    /* FlexRIC's enums count from 0 (STYLE_1_RIC_SERVICE_REPORT, FORMAT_1_ACTION_DEFINITION);
     * the standard's RIC Style Type / Format Type from 1 (clauses 8.3.3, 8.3.5). */
    int w = snprintf(buf + used, buflen - used, "%u\t%u", (unsigned)st->report_style_type + 1,
                     (unsigned)st->act_def_format_type + 1);
    if (w < 0 || (size_t)w >= buflen - used)
      return -2;
    used += (size_t)w;
    size_t const m = st->meas_info_for_action_lst != NULL ? st->meas_info_for_action_lst_len : 0;
    for (size_t k = 0; k < m; ++k) {
      byte_array_t const name = st->meas_info_for_action_lst[k].name;
      if (name.buf == NULL || name.len == 0)
        continue;
      if (used + 1 + name.len + 1 >= buflen)
        return -2;
      buf[used++] = '\t';
      for (size_t c = 0; c < name.len; ++c)
        buf[used++] = (name.buf[c] == '\t' || name.buf[c] == '\n' || name.buf[c] == '\0') ? ' ' : (char)name.buf[c];
    }
    if (used + 2 > buflen)
      return -2;
    buf[used++] = '\n';
    buf[used] = '\0';
  }
  return (int)n;
#endif
}

int mf_rc_control_actions(const void* rf_ptr, char* buf, size_t buflen)
{
#ifndef MF_RF_DECODED
  (void)rf_ptr; (void)buf; (void)buflen;
  return -3;
#else
  sm_ran_function_t const* rf = mf_decoded_def(rf_ptr, MF_SM_RC, RC_RAN_FUNC_DEF_E, buf, buflen);
  if (rf == NULL)
    return -1;
  ran_func_def_ctrl_t const* ctrl = rf->defn.rc.ctrl;
  if (ctrl == NULL || ctrl->seq_ctrl_style == NULL)
    return 0;
  size_t used = 0;
  int lines = 0;
  for (size_t i = 0; i < ctrl->sz_seq_ctrl_style; ++i) {
    seq_ctrl_style_t const* st = &ctrl->seq_ctrl_style[i];
    size_t const n = st->seq_ctrl_act != NULL ? st->sz_seq_ctrl_act : 0;
    for (size_t k = 0; k < n; ++k) {
      int w = snprintf(buf + used, buflen - used, "%u\t%u\n", (unsigned)st->style_type,
                       (unsigned)st->seq_ctrl_act[k].id);
      if (w < 0 || (size_t)w >= buflen - used)
        return -2;
      used += (size_t)w;
      ++lines;
    }
  }
  return lines;
#endif
}

void mf_unsubscribe(int handle)
{
  if (handle >= 0)
    rm_report_sm_xapp_api(handle);
}

/* ------------------------------------------------------------------------------------ */
/* E2SM-RC control                                                                       */
/* ------------------------------------------------------------------------------------ */

static int mf_fill_struct(ran_param_struct_t* dst, const mf_rp_node_t* nodes, size_t n_nodes,
                          uint32_t first, uint32_t count, int depth);

/* One seq_ran_param_t from nodes[i] (E2SM-RC clause 9.3.11, RAN Parameter Value Type). */
static int mf_fill_param(seq_ran_param_t* dst, const mf_rp_node_t* nodes, size_t n_nodes,
                         size_t i, int depth)
{
  if (i >= n_nodes || depth > 16)
    return -1;
  const mf_rp_node_t* n = &nodes[i];
  dst->ran_param_id = n->id;
  switch (n->kind) {
    case MF_RP_ELEMENT_INT:
    case MF_RP_ELEMENT_OCTETS: {
      ran_parameter_value_t* v = calloc(1, sizeof(ran_parameter_value_t));
      if (v == NULL)
        return -1;
      if (n->kind == MF_RP_ELEMENT_INT) {
        v->type = INTEGER_RAN_PARAMETER_VALUE;
        v->int_ran = n->int_val;
      } else {
        if (n->len > 0 && n->bytes == NULL) {
          free(v);
          return -1;
        }
        v->type = OCTET_STRING_RAN_PARAMETER_VALUE;
        v->octet_str_ran.buf = calloc(n->len + 1, 1);
        if (v->octet_str_ran.buf == NULL) {
          free(v);
          return -1;
        }
        if (n->len > 0)
          memcpy(v->octet_str_ran.buf, n->bytes, n->len);
        v->octet_str_ran.len = n->len;
      }
      dst->ran_param_val.type = ELEMENT_KEY_FLAG_FALSE_RAN_PARAMETER_VAL_TYPE;
      dst->ran_param_val.flag_false = v;
      return 0;
    }
    case MF_RP_STRUCTURE: {
      ran_param_struct_t* s = calloc(1, sizeof(ran_param_struct_t));
      if (s == NULL)
        return -1;
      dst->ran_param_val.type = STRUCTURE_RAN_PARAMETER_VAL_TYPE;
      dst->ran_param_val.strct = s;
      return mf_fill_struct(s, nodes, n_nodes, n->first_child, n->n_children, depth + 1);
    }
    case MF_RP_LIST: {
      ran_param_list_t* l = calloc(1, sizeof(ran_param_list_t));
      if (l == NULL)
        return -1;
      dst->ran_param_val.type = LIST_RAN_PARAMETER_VAL_TYPE;
      dst->ran_param_val.lst = l;
      if (n->n_children == 0)
        return 0;
      if ((size_t)n->first_child + n->n_children > n_nodes)
        return -1;
      l->lst_ran_param = calloc(n->n_children, sizeof(lst_ran_param_t));
      if (l->lst_ran_param == NULL)
        return -1;
      l->sz_lst_ran_param = n->n_children;
      /* RANParameter-LIST items are bare STRUCTUREs (the ASN.1 has no ID on them). */
      for (uint32_t k = 0; k < n->n_children; ++k) {
        const mf_rp_node_t* item = &nodes[n->first_child + k];
        if (item->kind != MF_RP_STRUCTURE)
          return -1;
        if (mf_fill_struct(&l->lst_ran_param[k].ran_param_struct, nodes, n_nodes,
                           item->first_child, item->n_children, depth + 1) != 0)
          return -1;
      }
      return 0;
    }
    default:
      return -1;
  }
}

static int mf_fill_struct(ran_param_struct_t* dst, const mf_rp_node_t* nodes, size_t n_nodes,
                          uint32_t first, uint32_t count, int depth)
{
  if (count == 0)
    return 0;
  if ((size_t)first + count > n_nodes)
    return -1;
  dst->ran_param_struct = calloc(count, sizeof(seq_ran_param_t));
  if (dst->ran_param_struct == NULL)
    return -1;
  dst->sz_ran_param_struct = count;
  for (uint32_t k = 0; k < count; ++k)
    if (mf_fill_param(&dst->ran_param_struct[k], nodes, n_nodes, first + k, depth) != 0)
      return -1;
  return 0;
}

int mf_rc_control(const void* node_id, uint32_t style, uint16_t action, const mf_rp_node_t* nodes,
                  size_t n_nodes, size_t n_roots, char* err, size_t errlen)
{
  if (node_id == NULL || nodes == NULL || n_roots == 0 || n_roots > n_nodes) {
    MF_ERR("RC control needs a node and a non-empty RAN parameter tree");
    return -1;
  }
  rc_ctrl_req_data_t ctrl;
  memset(&ctrl, 0, sizeof(ctrl));
  /* E2SM-RC clause 9.2.1.6.1: control header format 1, UE ID (a placeholder gNB UE: the
   * slice-level PRB quota of clause 8.4.3.6 is not per UE), style and action. */
  ctrl.hdr.format = FORMAT_1_E2SM_RC_CTRL_HDR;
  ctrl.hdr.frmt_1.ric_style_type = style;
  ctrl.hdr.frmt_1.ctrl_act_id = action;
  ctrl.hdr.frmt_1.ue_id.type = GNB_UE_ID_E2SM;
  ctrl.hdr.frmt_1.ue_id.gnb.amf_ue_ngap_id = 0;
  ctrl.hdr.frmt_1.ue_id.gnb.guami.plmn_id.mcc = 1;
  ctrl.hdr.frmt_1.ue_id.gnb.guami.plmn_id.mnc = 1;
  ctrl.hdr.frmt_1.ue_id.gnb.guami.plmn_id.mnc_digit_len = 2;
  /* Clause 9.2.1.7.1: control message format 1, the list of RAN parameters. */
  ctrl.msg.format = FORMAT_1_E2SM_RC_CTRL_MSG;
  ctrl.msg.frmt_1.ran_param = calloc(n_roots, sizeof(seq_ran_param_t));
  if (ctrl.msg.frmt_1.ran_param == NULL) {
    MF_ERR("out of memory");
    return -1;
  }
  ctrl.msg.frmt_1.sz_ran_param = n_roots;
  for (size_t i = 0; i < n_roots; ++i) {
    if (mf_fill_param(&ctrl.msg.frmt_1.ran_param[i], nodes, n_nodes, i, 0) != 0) {
      free_rc_ctrl_req_data(&ctrl);
      MF_ERR("malformed RAN parameter tree at root %zu", i);
      return -1;
    }
  }
  sm_ans_xapp_t ans = control_sm_xapp_api((global_e2_node_id_t*)node_id, MF_SM_RC, &ctrl);
  free_rc_ctrl_req_data(&ctrl);
  if (!ans.success) {
    MF_ERR("RC control failed: %s", ans.u.reason != NULL ? ans.u.reason : "no reason");
    return -3;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------ */
/* SLICE SM                                                                              */
/* ------------------------------------------------------------------------------------ */

int mf_slice_static(const void* node_id, const mf_static_slice_t* slices, size_t n, char* err,
                    size_t errlen)
{
  if (node_id == NULL || slices == NULL || n == 0) {
    MF_ERR("slice control needs a node and at least one slice");
    return -1;
  }
  slice_ctrl_req_data_t ctrl;
  memset(&ctrl, 0, sizeof(ctrl));
  ctrl.hdr.dummy = 0;
  ctrl.msg.type = SLICE_CTRL_SM_V0_ADD;
  ul_dl_slice_conf_t* dl = &ctrl.msg.u.add_mod_slice.dl;
  dl->sched_name = strdup("STATIC");
  dl->len_sched_name = dl->sched_name != NULL ? (uint32_t)strlen(dl->sched_name) : 0;
  dl->slices = calloc(n, sizeof(fr_slice_t));
  if (dl->sched_name == NULL || dl->slices == NULL) {
    free_slice_ctrl_msg(&ctrl.msg);
    MF_ERR("out of memory");
    return -1;
  }
  dl->len_slices = (uint32_t)n;
  for (size_t i = 0; i < n; ++i) {
    fr_slice_t* s = &dl->slices[i];
    s->id = slices[i].id;
    const char* label = slices[i].label != NULL ? slices[i].label : "";
    s->label = strdup(label);
    s->len_label = s->label != NULL ? (uint32_t)strlen(label) : 0;
    s->sched = strdup("PF");
    s->len_sched = s->sched != NULL ? 2 : 0;
    s->params.type = SLICE_ALG_SM_V0_STATIC;
    s->params.u.sta.pos_low = slices[i].pos_low;
    s->params.u.sta.pos_high = slices[i].pos_high;
  }
  sm_ans_xapp_t ans = control_sm_xapp_api((global_e2_node_id_t*)node_id, MF_SM_SLICE, &ctrl);
  free_slice_ctrl_msg(&ctrl.msg);
  if (!ans.success) {
    MF_ERR("slice control failed: %s", ans.u.reason != NULL ? ans.u.reason : "no reason");
    return -3;
  }
  return 0;
}
