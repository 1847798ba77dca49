//! Safe API over FlexRIC's xApp library: start it, list E2 nodes and their RAN functions,
//! subscribe to MAC stats and KPM, send E2SM-RC and SLICE SM controls.
//!
//! Safety rules kept here: every C length is checked before its pointer is read; callbacks
//! from FlexRIC's thread go through `extern "C"` trampolines that `catch_unwind`, so no panic
//! crosses the FFI boundary; a RAN function is only used on a node that announced it
//! (FlexRIC asserts otherwise); the library is initialised at most once per process.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::net::Ipv4Addr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::sys;
use super::tree::{flatten, FlatKind, RpParam};
use crate::kpm_plan::{Advertised, KpmRequest, ReportStyle, TestExpression, TestType, TestValue};
use crate::rc_plan::RcAdvertised;

/// FlexRIC's node array as `e2_nodes_xapp_api` returns it (the API shape `build.rs`
/// detected): `e2_node_arr_xapp_t` of `e2_node_connected_xapp_t` ...
#[cfg(flexric_node_arr_xapp)]
type RawNodeArr = sys::e2_node_arr_xapp_t;
#[cfg(flexric_node_arr_xapp)]
type RawNode = sys::e2_node_connected_xapp_t;
/// ... or `e2_node_arr_t` of `e2_node_connected_t`.
#[cfg(not(flexric_node_arr_xapp))]
type RawNodeArr = sys::e2_node_arr_t;
#[cfg(not(flexric_node_arr_xapp))]
type RawNode = sys::e2_node_connected_t;

/// A node entry's RAN function: decoded (`sm_ran_function_t`, field `rf`) or raw
/// (`ran_function_t`, field `ack_rf`).
#[cfg(flexric_rf_decoded)]
type RawRanFunction = sys::sm_ran_function_t;
#[cfg(not(flexric_rf_decoded))]
type RawRanFunction = sys::ran_function_t;

/// The RAN functions of a node entry (length checked before the pointer is read).
fn raw_ran_functions(n: &RawNode) -> &[RawRanFunction] {
    #[cfg(flexric_rf_decoded)]
    let ptr = n.rf;
    #[cfg(not(flexric_rf_decoded))]
    let ptr = n.ack_rf;
    if n.len_rf == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: the entry holds `len_rf` RAN functions at `ptr` (non-null, checked above),
    // owned by the node array that outlives the borrow of `n`.
    unsafe { std::slice::from_raw_parts(ptr, n.len_rf) }
}

/// A RAN function's OID (E2AP clause 9.2.31; optional under E2AP v1, where FlexRIC keeps a
/// pointer).
fn oid_text(rf: &RawRanFunction) -> String {
    #[cfg(flexric_e2ap = "E2AP_V1")]
    let bytes = if rf.oid.is_null() {
        &[][..]
    } else {
        // SAFETY: non-null pointer to one byte_array_t owned by the node array.
        bytes_of(unsafe { &*rf.oid })
    };
    #[cfg(not(flexric_e2ap = "E2AP_V1"))]
    let bytes = bytes_of(&rf.oid);
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\0')
        .to_owned()
}

/// A RAN function's short name: its definition when that is printable text (FlexRIC's own
/// SMs, raw definitions only), else the well-known name of its id.
fn rf_name(rf: &RawRanFunction) -> String {
    #[cfg(not(flexric_rf_decoded))]
    if let Some(text) = printable(bytes_of(&rf.defn)) {
        return text;
    }
    well_known_name(rf.id).to_owned()
}

/// FFI failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FfiError {
    /// `init` was called twice in this process.
    #[error("FlexRIC's xApp library is already initialised in this process")]
    AlreadyInitialised,
    /// An argument cannot be handed to C (NUL byte, too long, out of range).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No node at that index.
    #[error("no E2 node #{0}")]
    NoNode(usize),
    /// The node did not announce the RAN function.
    #[error("E2 node {node} does not offer RAN function {ran_function}")]
    NoRanFunction {
        /// Node id text.
        node: String,
        /// RAN function id.
        ran_function: u16,
    },
    /// FlexRIC refused the request.
    #[error("FlexRIC: {0}")]
    Refused(String),
}

/// One UE of a MAC stats indication (FlexRIC MAC SM, RAN function 142).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacUe {
    /// C-RNTI.
    pub rnti: u16,
    /// Wide-band CQI as reported (0..=15 when valid, TS 38.214 Table 5.2.2.1-2).
    pub wb_cqi: u8,
    /// DL MCS index of codeword 1.
    pub dl_mcs: u8,
    /// DL block error rate.
    pub dl_bler: f32,
    /// Cumulative DL transport block bytes.
    pub dl_aggr_tbs: u64,
    /// DL transport block bytes of the last slot.
    pub dl_curr_tbs: u64,
    /// DL resource blocks scheduled in the last slot.
    pub dl_sched_rb: u64,
    /// Cumulative DL PRBs.
    pub dl_aggr_prb: u32,
    /// MAC frame number (SFN, 0..=1023) when the stats were taken, where the node fills it
    /// (OAI: the MAC's current frame); else 0.
    pub frame: u16,
}

/// A MAC stats indication.
#[derive(Debug, Clone, PartialEq)]
pub struct MacIndication {
    /// Agent time stamp, µs.
    pub tstamp_us: i64,
    /// Its UEs.
    pub ues: Vec<MacUe>,
}

/// One KPM measurement value (E2SM-KPM v3.00 indication message format 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpmValue {
    /// Index of the UE report in the indication.
    pub ue: u32,
    /// AMF UE NGAP id when the UE id is a gNB UE id, else 0.
    pub amf_ue_ngap_id: u64,
    /// Index into the measurement names given at subscription.
    pub meas: u32,
    /// The value (integer or real).
    pub value: f64,
}

/// A RAN function as an E2 node announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RanFunction {
    /// RAN function id.
    pub id: u16,
    /// Revision.
    pub revision: u16,
    /// OID text (empty when absent).
    pub oid: String,
    /// Short name: the definition when it is printable text (FlexRIC's own SMs), else the
    /// well-known name of the id.
    pub name: String,
}

/// An E2 node connected to the near-RT RIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E2Node {
    /// `gnb-<mcc>-<mnc>-<nb id>` (node type, PLMN, gNB/eNB id), plus `-<cu/du id>` if any.
    pub id: String,
    /// Its PLMN's MCC, three digits.
    pub mcc: String,
    /// Its PLMN's MNC, two or three digits.
    pub mnc: String,
    /// Its gNB (eNB) id.
    pub nb_id: u64,
    /// Its gNB-CU/DU id, for a split node.
    pub cu_du_id: Option<u64>,
    /// Its RAN functions.
    pub ran_functions: Vec<RanFunction>,
}

impl E2Node {
    /// Whether the node offers RAN function `id`.
    pub fn offers(&self, id: u16) -> bool {
        self.ran_functions.iter().any(|f| f.id == id)
    }
}

/// A slice of a SLICE SM STATIC configuration: PRBs `[pos_low, pos_high]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticSlice {
    /// Slice id.
    pub id: u32,
    /// First PRB.
    pub pos_low: u32,
    /// Last PRB.
    pub pos_high: u32,
    /// Label (e.g. the S-NSSAI as text).
    pub label: String,
}

static STARTED: AtomicBool = AtomicBool::new(false);

/// The running xApp library (one per process).
#[derive(Debug)]
pub struct FlexricXapp {
    _private: (),
}

fn err_text(buf: &[c_char]) -> String {
    // SAFETY: the shim writes a NUL-terminated string with snprintf into `buf`, which was
    // zero-initialised, so a NUL exists within its bounds.
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
    s.to_string_lossy().into_owned()
}

fn cstring(what: &str, s: &str) -> Result<CString, FfiError> {
    CString::new(s).map_err(|_| FfiError::InvalidArgument(format!("{what} contains a NUL byte")))
}

fn path_cstring(what: &str, p: &Path) -> Result<CString, FfiError> {
    let s = p
        .to_str()
        .ok_or_else(|| FfiError::InvalidArgument(format!("{what} is not UTF-8")))?;
    if s.len() >= 127 {
        return Err(FfiError::InvalidArgument(format!(
            "{what} must be shorter than 128 bytes (FlexRIC's FR_CONF_FILE_LEN)"
        )));
    }
    cstring(what, s)
}

impl FlexricXapp {
    /// Starts FlexRIC's xApp library towards the near-RT RIC at `ric_ip` (E42 port 36422,
    /// fixed by FlexRIC), with the SM plugins of `sm_dir` and FlexRIC's config file
    /// `conf_file` (it reads `DB_DIR` from it). Fills FlexRIC's `fr_args_t` directly, never
    /// from our argv. Blocks until the E42 SETUP succeeded; call it on a blocking thread.
    pub fn init(ric_ip: Ipv4Addr, conf_file: &Path, sm_dir: &Path) -> Result<Self, FfiError> {
        let ip = cstring("ric ip", &ric_ip.to_string())?;
        let conf = path_cstring("conf_file", conf_file)?;
        let dir = path_cstring("sm_dir", sm_dir)?;
        if STARTED.swap(true, Ordering::SeqCst) {
            return Err(FfiError::AlreadyInitialised);
        }
        let mut err = [0 as c_char; 256];
        // SAFETY: valid NUL-terminated strings; `err` is writable for its length.
        let rc = unsafe {
            sys::mf_init(
                ip.as_ptr(),
                conf.as_ptr(),
                dir.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc != 0 {
            return Err(FfiError::Refused(err_text(&err)));
        }
        Ok(Self { _private: () })
    }

    /// A snapshot of the E2 nodes connected to the near-RT RIC.
    pub fn nodes(&self) -> NodeList {
        // SAFETY: the library is initialised (`self` exists); the array is owned by us and
        // freed in `NodeList::drop`.
        let arr = unsafe { sys::e2_nodes_xapp_api() };
        NodeList::new(arr)
    }
}

/// An owned snapshot of FlexRIC's E2 node array; requests name a node by its index.
pub struct NodeList {
    arr: RawNodeArr,
    nodes: Vec<E2Node>,
}

// SAFETY: the array is exclusively owned (FlexRIC returned a deep copy) and only read.
unsafe impl Send for NodeList {}
// SAFETY: no interior mutability; FlexRIC's request functions only read the node id.
unsafe impl Sync for NodeList {}

impl std::fmt::Debug for NodeList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeList")
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl Drop for NodeList {
    fn drop(&mut self) {
        if !self.arr.n.is_null() || self.arr.len != 0 {
            // SAFETY: the array came from e2_nodes_xapp_api and is freed once, with the free
            // function of its type.
            #[cfg(flexric_node_arr_xapp)]
            unsafe {
                sys::free_e2_node_arr_xapp(&mut self.arr)
            };
            // SAFETY: as above.
            #[cfg(not(flexric_node_arr_xapp))]
            unsafe {
                sys::free_e2_node_arr(&mut self.arr)
            };
        }
    }
}

fn bytes_of(ba: &sys::byte_array_t) -> &[u8] {
    if ba.len == 0 || ba.buf.is_null() {
        return &[];
    }
    // SAFETY: FlexRIC's byte_array_t: `buf` holds `len` bytes (checked non-null above).
    unsafe { std::slice::from_raw_parts(ba.buf, ba.len) }
}

fn well_known_name(id: u16) -> &'static str {
    match id {
        2 => "ORAN-E2SM-KPM",
        3 => "ORAN-E2SM-RC",
        142 => "MAC_STATS_V0",
        143 => "RLC_STATS_V0",
        144 => "PDCP_STATS_V0",
        145 => "SLICE_STATS_V0",
        146 => "TC_STATS_V0",
        148 => "GTP_STATS_V0",
        _ => "unknown",
    }
}

// Used for raw definitions only (FlexRIC's own SMs send their name as the definition).
#[cfg_attr(flexric_rf_decoded, allow(dead_code))]
fn printable(b: &[u8]) -> Option<String> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    (!b.is_empty() && b.len() <= 64 && b.iter().all(|c| c.is_ascii_graphic() || *c == b' '))
        .then(|| String::from_utf8_lossy(b).into_owned())
}

fn node_type_name(t: u32) -> &'static str {
    match t {
        0 => "enb",
        1 => "ngenb",
        2 => "gnb",
        3 => "enb-cu",
        4 => "ngenb-cu",
        5 => "gnb-cu",
        6 => "enb-du",
        7 => "gnb-du",
        9 => "gnb-cucp",
        10 => "gnb-cuup",
        _ => "node",
    }
}

fn node_info(n: &RawNode) -> E2Node {
    let id = &n.id;
    let mnc = if id.plmn.mnc_digit_len == 3 {
        format!("{:03}", id.plmn.mnc)
    } else {
        format!("{:02}", id.plmn.mnc)
    };
    let mcc = format!("{:03}", id.plmn.mcc);
    let mut text = format!(
        "{}-{}-{}-{}",
        node_type_name(id.type_),
        mcc,
        mnc,
        id.nb_id.nb_id
    );
    let cu_du_id = if id.cu_du_id.is_null() {
        None
    } else {
        // SAFETY: non-null pointer to one u64 owned by the node array.
        Some(unsafe { *id.cu_du_id })
    };
    if let Some(cu_du) = cu_du_id {
        text.push_str(&format!("-{cu_du}"));
    }
    let ran_functions = raw_ran_functions(n)
        .iter()
        .map(|rf| RanFunction {
            id: rf.id,
            revision: rf.rev,
            oid: oid_text(rf),
            name: rf_name(rf),
        })
        .collect();
    E2Node {
        id: text,
        mcc,
        mnc,
        nb_id: u64::from(id.nb_id.nb_id),
        cu_du_id,
        ran_functions,
    }
}

type MacFn = dyn Fn(MacIndication) + Send + Sync;
type KpmFn = dyn Fn(Vec<KpmValue>) + Send + Sync;

extern "C" fn mac_trampoline(
    user: *mut c_void,
    tstamp_us: i64,
    ues: *const sys::mf_mac_ue_t,
    len: usize,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if user.is_null() {
            return;
        }
        // SAFETY: `user` is the leaked `Box<Box<MacFn>>` of `subscribe_mac`, never freed.
        let f = unsafe { &*(user as *const Box<MacFn>) };
        let raw: &[sys::mf_mac_ue_t] = if len == 0 || ues.is_null() {
            &[]
        } else {
            // SAFETY: the shim passes `len` UEs valid for this call (length checked first).
            unsafe { std::slice::from_raw_parts(ues, len) }
        };
        let ues = raw
            .iter()
            .map(|u| MacUe {
                rnti: u.rnti as u16,
                wb_cqi: u.wb_cqi,
                dl_mcs: u.dl_mcs1,
                dl_bler: u.dl_bler,
                dl_aggr_tbs: u.dl_aggr_tbs,
                dl_curr_tbs: u.dl_curr_tbs,
                dl_sched_rb: u.dl_sched_rb,
                dl_aggr_prb: u.dl_aggr_prb,
                frame: u.frame,
            })
            .collect();
        f(MacIndication { tstamp_us, ues });
    }));
}

extern "C" fn kpm_trampoline(user: *mut c_void, vals: *const sys::mf_kpm_val_t, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if user.is_null() {
            return;
        }
        // SAFETY: `user` is the leaked `Box<Box<KpmFn>>` of `subscribe_kpm`, never freed.
        let f = unsafe { &*(user as *const Box<KpmFn>) };
        let raw: &[sys::mf_kpm_val_t] = if len == 0 || vals.is_null() {
            &[]
        } else {
            // SAFETY: the shim passes `len` values valid for this call (length checked first).
            unsafe { std::slice::from_raw_parts(vals, len) }
        };
        f(raw
            .iter()
            .map(|v| KpmValue {
                ue: v.ue,
                amf_ue_ngap_id: v.amf_ue_ngap_id,
                meas: v.meas,
                value: v.value,
            })
            .collect());
    }));
}

impl NodeList {
    fn new(arr: RawNodeArr) -> Self {
        let raw: &[RawNode] = if arr.len == 0 || arr.n.is_null() {
            &[]
        } else {
            // SAFETY: `n` holds `len` nodes (length checked first).
            unsafe { std::slice::from_raw_parts(arr.n, usize::from(arr.len)) }
        };
        let nodes = raw.iter().map(node_info).collect();
        Self { arr, nodes }
    }

    /// The nodes.
    pub fn nodes(&self) -> &[E2Node] {
        &self.nodes
    }

    fn id_ptr(&self, node: usize, ran_function: u16) -> Result<*const c_void, FfiError> {
        let info = self.nodes.get(node).ok_or(FfiError::NoNode(node))?;
        if !info.offers(ran_function) {
            return Err(FfiError::NoRanFunction {
                node: info.id.clone(),
                ran_function,
            });
        }
        // SAFETY: index checked against the length the node list was built from.
        let n = unsafe { &*self.arr.n.add(node) };
        Ok(&n.id as *const sys::global_e2_node_id_t as *const c_void)
    }

    /// What `node`'s KPM RAN function definition advertises: its REPORT styles when this
    /// FlexRIC hands out decoded definitions, else [`Advertised::NotDecoded`].
    pub fn kpm_advertised(&self, node: usize) -> Result<Advertised, FfiError> {
        let listed = self.definition_lines(
            node,
            super::ran_function::KPM,
            "KPM",
            sys::mf_kpm_report_styles,
        )?;
        Ok(listed.map_or(Advertised::NotDecoded, |text| {
            Advertised::Styles(ReportStyle::parse_lines(&text))
        }))
    }

    /// The CONTROL styles and actions `node`'s RC RAN function definition advertises, when
    /// this FlexRIC hands out decoded definitions, else [`RcAdvertised::NotDecoded`].
    pub fn rc_advertised(&self, node: usize) -> Result<RcAdvertised, FfiError> {
        let listed = self.definition_lines(
            node,
            super::ran_function::RC,
            "RC",
            sys::mf_rc_control_actions,
        )?;
        Ok(listed.map_or(RcAdvertised::NotDecoded, |text| {
            RcAdvertised::parse_lines(&text)
        }))
    }

    /// The text one of the shim's definition listers (`mf_kpm_report_styles`,
    /// `mf_rc_control_actions`) writes for `node`'s RAN function `ran_function` (`what`
    /// names it in errors); `None` when this FlexRIC hands out raw definitions only.
    fn definition_lines(
        &self,
        node: usize,
        ran_function: u16,
        what: &str,
        lister: unsafe extern "C" fn(*const c_void, *mut c_char, usize) -> c_int,
    ) -> Result<Option<String>, FfiError> {
        self.id_ptr(node, ran_function)?;
        // SAFETY: index checked by `id_ptr` against the node list's length.
        let n = unsafe { &*self.arr.n.add(node) };
        let Some(rf) = raw_ran_functions(n).iter().find(|rf| rf.id == ran_function) else {
            return Err(FfiError::NoRanFunction {
                node: self.nodes[node].id.clone(),
                ran_function,
            });
        };
        let mut buf = vec![0 as c_char; 16 * 1024];
        // SAFETY: `rf` points into the node array we own; `buf` is writable for its length;
        // the shim writes a NUL-terminated string within it or returns a negative value.
        let rc = unsafe {
            lister(
                rf as *const RawRanFunction as *const c_void,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        match rc {
            -3 => Ok(None),
            n if n >= 0 => Ok(Some(err_text(&buf))),
            -2 => Err(FfiError::Refused(format!(
                "{what} RAN function definition too large to list"
            ))),
            _ => Err(FfiError::Refused(format!(
                "the {what} RAN function holds no decoded {what} definition"
            ))),
        }
    }

    /// Subscribes to MAC stats of `node` every `period_ms` (1, 2, 5 or 10: all FlexRIC's MAC
    /// SM accepts).
    /// `on_indication` runs on FlexRIC's thread and lives as long as the process. Blocks
    /// until the RIC answers. Returns the subscription handle.
    pub fn subscribe_mac(
        &self,
        node: usize,
        period_ms: u32,
        on_indication: impl Fn(MacIndication) + Send + Sync + 'static,
    ) -> Result<i32, FfiError> {
        let id = self.id_ptr(node, super::ran_function::MAC)?;
        let boxed: Box<Box<MacFn>> = Box::new(Box::new(on_indication));
        let user = Box::into_raw(boxed) as *mut c_void;
        let mut err = [0 as c_char; 256];
        // SAFETY: `id` points into our node array; the callback and `user` stay valid for the
        // process lifetime (leaked on purpose: FlexRIC may call back until it stops).
        let h = unsafe {
            sys::mf_subscribe_mac(
                id,
                period_ms,
                Some(mac_trampoline),
                user,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if h < 0 {
            return Err(FfiError::Refused(err_text(&err)));
        }
        Ok(h)
    }

    /// Subscribes to E2SM-KPM REPORT style 4 as `request` says (its matching condition and
    /// measurement names, TS 28.552, e.g. `DRB.UEThpDl`) of `node` every `period_ms`; choose
    /// `request` with [`crate::kpm_plan::plan_kpm`]. Same rules as [`Self::subscribe_mac`].
    pub fn subscribe_kpm(
        &self,
        node: usize,
        period_ms: u32,
        request: &KpmRequest,
        on_indication: impl Fn(Vec<KpmValue>) + Send + Sync + 'static,
    ) -> Result<i32, FfiError> {
        let id = self.id_ptr(node, super::ran_function::KPM)?;
        let cond = kpm_cond(request)?;
        let owned = request
            .measurements
            .iter()
            .map(|n| cstring("measurement name", n))
            .collect::<Result<Vec<_>, _>>()?;
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let boxed: Box<Box<KpmFn>> = Box::new(Box::new(on_indication));
        let user = Box::into_raw(boxed) as *mut c_void;
        let mut err = [0 as c_char; 256];
        // SAFETY: as in subscribe_mac; `ptrs` and `owned` outlive the call (FlexRIC copies).
        let h = unsafe {
            sys::mf_subscribe_kpm(
                id,
                period_ms,
                ptrs.as_ptr(),
                ptrs.len(),
                &cond,
                Some(kpm_trampoline),
                user,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if h < 0 {
            return Err(FfiError::Refused(err_text(&err)));
        }
        Ok(h)
    }

    /// Sends an E2SM-RC control (header format 1 with `style`/`action`, message format 1
    /// with the RAN parameters `params`) and waits for the RIC's answer.
    pub fn rc_control(
        &self,
        node: usize,
        style: u32,
        action: u16,
        params: &[RpParam],
    ) -> Result<(), FfiError> {
        let id = self.id_ptr(node, super::ran_function::RC)?;
        let flat = flatten(params);
        let nodes: Vec<sys::mf_rp_node_t> = flat
            .iter()
            .map(|n| {
                let (kind, int_val, bytes, len) = match &n.kind {
                    FlatKind::Int(v) => (sys::MF_RP_ELEMENT_INT, *v, std::ptr::null(), 0),
                    FlatKind::Octets(b) => (sys::MF_RP_ELEMENT_OCTETS, 0, b.as_ptr(), b.len()),
                    FlatKind::Structure => (sys::MF_RP_STRUCTURE, 0, std::ptr::null(), 0),
                    FlatKind::List => (sys::MF_RP_LIST, 0, std::ptr::null(), 0),
                };
                sys::mf_rp_node_t {
                    id: n.id,
                    kind,
                    int_val,
                    bytes,
                    len,
                    first_child: n.first_child,
                    n_children: n.n_children,
                }
            })
            .collect();
        let mut err = [0 as c_char; 256];
        // SAFETY: `nodes` (and the byte buffers of `flat` they point into) outlive the call;
        // the shim bounds-checks every child index against `nodes.len()`.
        let rc = unsafe {
            sys::mf_rc_control(
                id,
                style,
                action,
                nodes.as_ptr(),
                nodes.len(),
                params.len(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc != 0 {
            return Err(FfiError::Refused(err_text(&err)));
        }
        Ok(())
    }

    /// Sends a SLICE SM (RAN function 145) add/modify of STATIC DL slices.
    pub fn slice_static(&self, node: usize, slices: &[StaticSlice]) -> Result<(), FfiError> {
        let id = self.id_ptr(node, super::ran_function::SLICE)?;
        let labels = slices
            .iter()
            .map(|s| cstring("slice label", &s.label))
            .collect::<Result<Vec<_>, _>>()?;
        let raw: Vec<sys::mf_static_slice_t> = slices
            .iter()
            .zip(&labels)
            .map(|(s, l)| sys::mf_static_slice_t {
                id: s.id,
                pos_low: s.pos_low,
                pos_high: s.pos_high,
                label: l.as_ptr(),
            })
            .collect();
        let mut err = [0 as c_char; 256];
        // SAFETY: `raw` and `labels` outlive the call; the shim copies what it keeps.
        let rc = unsafe {
            sys::mf_slice_static(id, raw.as_ptr(), raw.len(), err.as_mut_ptr(), err.len())
        };
        if rc != 0 {
            return Err(FfiError::Refused(err_text(&err)));
        }
        Ok(())
    }
}

/// The shim's form of `request`'s matching condition (E2SM-KPM clause 8.3.22).
fn kpm_cond(request: &KpmRequest) -> Result<sys::mf_kpm_cond_t, FfiError> {
    let c = &request.condition;
    let mut out = sys::mf_kpm_cond_t {
        cond_type: match c.test {
            TestType::SNssai => sys::MF_KPM_COND_SNSSAI,
        },
        expr: match c.expression {
            TestExpression::Equal => sys::MF_KPM_EXPR_EQUAL,
        },
        ..Default::default()
    };
    match &c.value {
        TestValue::Integer(v) => {
            out.value_kind = sys::MF_KPM_VALUE_INT;
            out.int_value = *v;
        }
        TestValue::Octets(b) => {
            if b.is_empty() || b.len() > out.octets.len() {
                return Err(FfiError::InvalidArgument(format!(
                    "KPM test value of {} octets (1..={} supported)",
                    b.len(),
                    out.octets.len()
                )));
            }
            out.value_kind = sys::MF_KPM_VALUE_OCTETS;
            out.octets[..b.len()].copy_from_slice(b);
            out.n_octets = b.len();
        }
    }
    Ok(out)
}

/// Writes the FlexRIC config file the library insists on reading (`NEAR_RIC_IP`, `DB_DIR`)
/// to `path`.
pub fn write_conf_file(path: &Path, ric_ip: Ipv4Addr, db_dir: &Path) -> std::io::Result<()> {
    let text = format!(
        "[NEAR-RIC]\nNEAR_RIC_IP = {ric_ip}\n\n[XAPP]\nDB_DIR = {}\n",
        db_dir.display()
    );
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_definitions_become_names() {
        assert_eq!(printable(b"MAC_STATS_V0\0"), Some("MAC_STATS_V0".into()));
        assert_eq!(printable(&[0x30, 0x81, 0x02]), None);
        assert_eq!(printable(b""), None);
        assert_eq!(well_known_name(3), "ORAN-E2SM-RC");
    }

    #[test]
    fn paths_longer_than_flexric_buffers_are_refused() {
        let long = Path::new("/tmp").join("x".repeat(200));
        assert!(matches!(
            path_cstring("sm_dir", &long),
            Err(FfiError::InvalidArgument(_))
        ));
        assert!(path_cstring("sm_dir", Path::new("/usr/local/lib/flexric/")).is_ok());
    }

    #[test]
    fn mac_trampoline_tolerates_null_and_empty() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let f: Box<Box<MacFn>> = Box::new(Box::new(move |ind: MacIndication| {
            s.fetch_add(1 + ind.ues.len(), Ordering::SeqCst);
        }));
        let user = Box::into_raw(f) as *mut c_void;
        // len 0 with a dangling pointer: the pointer must not be read
        mac_trampoline(
            user,
            1,
            std::ptr::NonNull::<sys::mf_mac_ue_t>::dangling().as_ptr(),
            0,
        );
        mac_trampoline(std::ptr::null_mut(), 1, std::ptr::null(), 0);
        let ue = sys::mf_mac_ue_t {
            rnti: 7,
            wb_cqi: 12,
            ..Default::default()
        };
        mac_trampoline(user, 2, &ue, 1);
        assert_eq!(seen.load(Ordering::SeqCst), 1 + 2);
        // a panicking callback does not unwind into C
        let p: Box<Box<MacFn>> = Box::new(Box::new(|_| panic!("boom")));
        mac_trampoline(Box::into_raw(p) as *mut c_void, 3, std::ptr::null(), 0);
        // SAFETY: reclaim the test box.
        drop(unsafe { Box::from_raw(user as *mut Box<MacFn>) });
    }
}
