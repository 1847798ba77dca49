//! The FlexRIC E2 backend (feature `flexric`): a near-RT RIC and its E2 nodes through
//! FlexRIC's xApp C API (`maestro-ffi`).
//!
//! Every E2 node offering MAC stats is served, each node one cell (named by
//! [`FlexricConfig::cell_id_of`]), or only the configured `node_id`. The RIC's node list is
//! read every second: a node that connects is served (subscribed) as it appears, one that
//! leaves the list is dropped and its cell goes silent for the control loop. (FlexRIC `dev`
//! hands an xApp the list of its E42 SETUP only; [`watch`] covers a node lost there.)
//!
//! MAC stats indications (FlexRIC RAN function 142: per-UE wide-band CQI, MCS, PRBs, BLER,
//! transport block bytes) become one [`CellMeasurement`] per report period, UEs grouped into
//! the configured slices by RNTI ([`FlexricConfig::slice_of`]). E2SM-KPM (RAN function 2) is
//! subscribed too when offered, allowed by `kpm` in the config, and safe for the node
//! ([`maestro_ffi::kpm_plan::plan_kpm`]: REPORT style 4, S-NSSAI EQUAL as FlexRIC's own
//! example of the same generation sends it; `DRB.UEThpDl`, `RRU.PrbTotDl`, TS 28.552 clauses
//! 5.1.1.3.1 and 5.1.1.2.1): KPM names UEs by AMF UE NGAP ID and the MAC SM by RNTI, so its
//! values only serve as a cell-level cross-check in the logs. Controls go out as E2SM-RC style 2 action
//! 6 or, for nodes offering FlexRIC's SLICE SM (145) instead, as a STATIC slice config.
//!
//! FlexRIC aborts its process when the RIC does not answer in ~5 s and notices no lost
//! association over the test shim: this backend runs inside `maestro e2-bridge`, and when no
//! MAC indication arrives for `max(5 s, 10 periods)` after one that listed a UE it closes its
//! report stream, so the bridge child exits and its supervisor restarts it (FlexRIC's library
//! cannot be restarted in-process). A listed node that is silent without a UE is idle: its
//! cell is reported empty ([`super::idle`]).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use maestro_e2sm::rc::{
    prbs_for_ratio, ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl,
    CONTROL_ACTION_SLICE_PRB_QUOTA, CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION,
};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use maestro_ffi::flexric::{
    quota_tree, ran_function, FfiError, FlexricXapp, KpmValue, MacIndication, NodeList, StaticSlice,
};
use maestro_ffi::kpm_plan::{plan_kpm, KpmPlan};
use maestro_ffi::rc_plan::{self, RcAdvertised};
use tokio::sync::broadcast;

use super::flexric_config::{FlexricConfig, FlexricControl, FlexricKpm, NodeIdentity};
use super::{BoxFuture, E2Backend, E2Error, E2NodeInfo, RanFunctionInfo, ServedCell};
use crate::nr::{air_time, CellConfig};

/// KPM measurements asked for (TS 28.552 names FlexRIC's agents and OAI's gNB know).
const KPM_MEASUREMENTS: [&str; 2] = ["DRB.UEThpDl", "RRU.PrbTotDl"];

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum FlexricError {
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// FlexRIC refused or failed.
    #[error("flexric: {0}")]
    Ffi(#[from] FfiError),
    /// No usable E2 node appeared.
    #[error("flexric: no E2 node offering MAC stats (RAN function 142){0} within {1:?}")]
    NoNode(String, Duration),
    /// I/O (FlexRIC's config file).
    #[error("flexric: {0}")]
    Io(String),
}

/// Per-UE counters of the previous MAC indication (to turn cumulative counters into rates).
#[derive(Debug, Clone, Copy)]
struct UePrev {
    dl_aggr_tbs: u64,
    dl_aggr_prb: u32,
}

/// What the MAC callback keeps between indications.
#[derive(Debug)]
struct MacState {
    prev: HashMap<u16, UePrev>,
    /// Agent time stamp of the last indication turned into a report.
    last_tstamp_us: Option<i64>,
    /// MAC frame number of that indication (its first UE's), where the node fills it.
    last_frame: Option<u16>,
}

/// The MAC stats interval asked for: FlexRIC's MAC SM offers only 1, 2, 5 and 10 ms, so
/// longer report periods aggregate 10 ms indications (cumulative counters make that exact).
fn mac_interval_ms(report_period_ms: u64) -> u32 {
    match report_period_ms {
        1 | 2 | 5 => report_period_ms as u32,
        _ => 10,
    }
}

/// What every served node shares: the config and the one report stream.
struct Common {
    config: FlexricConfig,
    /// `None` once the E2 side is declared lost (closes the report stream).
    reports: Mutex<Option<broadcast::Sender<Arc<CellMeasurement>>>>,
    sequence: AtomicU64,
    /// Every node went silent right after serving a UE ([`watch`]): none is listed.
    lost: AtomicBool,
}

/// What one node's callbacks (FlexRIC's thread) keep.
struct NodeState {
    /// The cell id its reports carry.
    cell_id: String,
    /// Max PRB ratio last acknowledged per configured slice.
    max_ratio: Mutex<Vec<Option<u8>>>,
    mac: Mutex<MacState>,
    last_indication: Mutex<Instant>,
    /// The last MAC indication listed a UE: silence after it is suspect (see [`watch`]).
    last_had_ues: AtomicBool,
    kpm_last: Mutex<Option<(f64, f64)>>,
    /// Index of `DRB.UEThpDl` and `RRU.PrbTotDl` in the KPM subscription's measurement list.
    kpm_index: Mutex<(Option<u32>, Option<u32>)>,
    /// The refusal of an RC control the node does not advertise was logged (once a node).
    rc_refusal_logged: AtomicBool,
    /// When its KPM subscription was accepted, and whether an indication came since (a
    /// silent one is logged once: [`kpm_silent`]).
    kpm_since: Mutex<Option<Instant>>,
    kpm_heard: AtomicBool,
    kpm_silence_logged: AtomicBool,
}

/// A served E2 node: the node list snapshot it was found in (FlexRIC's requests point into
/// it, so it is kept while the node is served) and its index there, what it offers, its
/// callbacks' state.
#[derive(Clone)]
struct ServedNode {
    list: Arc<NodeList>,
    index: usize,
    info: E2NodeInfo,
    state: Arc<NodeState>,
    /// The RC CONTROL styles and actions it advertises (none listed: no RC function).
    rc: RcAdvertised,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The FlexRIC backend: every E2 node the near-RT RIC has that offers MAC stats (or the one
/// configured), each node one cell.
pub struct FlexricBackend {
    common: Arc<Common>,
    members: Vec<RrmPolicyMember>,
    /// The served nodes by cell id; nodes join and leave while it runs.
    nodes: Arc<RwLock<BTreeMap<String, ServedNode>>>,
    /// FlexRIC requests are serialised (its xApp library waits for one answer at a time).
    requests: Arc<Mutex<()>>,
    _xapp: Arc<FlexricXapp>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FlexricBackend {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn ffi_node_to_info(n: &maestro_ffi::flexric::E2Node) -> E2NodeInfo {
    E2NodeInfo {
        node_id: n.id.clone(),
        ran_functions: n
            .ran_functions
            .iter()
            .map(|f| RanFunctionInfo {
                id: f.id,
                oid: f.oid.clone(),
                revision: f.revision,
                name: f.name.clone(),
            })
            .collect(),
    }
}

/// The cell id `config` gives node `n`.
fn cell_of(config: &FlexricConfig, n: &maestro_ffi::flexric::E2Node) -> String {
    config.cell_id_of(&NodeIdentity {
        id: &n.id,
        mcc: &n.mcc,
        mnc: &n.mnc,
        nb_id: n.nb_id,
        cu_du_id: n.cu_du_id,
    })
}

/// Takes a fresh snapshot of the RIC's E2 nodes.
async fn snapshot(xapp: &Arc<FlexricXapp>) -> Result<Arc<NodeList>, FlexricError> {
    let x = Arc::clone(xapp);
    tokio::task::spawn_blocking(move || Arc::new(x.nodes()))
        .await
        .map_err(|e| FlexricError::Io(e.to_string()))
}

/// The nodes of `list` the backend serves (MAC stats offered, the configured node when one
/// is, a cell of its shard), by index.
fn servable(config: &FlexricConfig, list: &NodeList) -> Vec<usize> {
    list.nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.offers(ran_function::MAC)
                && config.serves(&n.id)
                && config.shard.owns(&cell_of(config, n))
        })
        .map(|(i, _)| i)
        .collect()
}

fn log_ran_functions(n: &maestro_ffi::flexric::E2Node) {
    for f in &n.ran_functions {
        tracing::info!(
            node = %n.id,
            ran_function = f.id,
            name = %f.name,
            revision = f.revision,
            oid = %f.oid,
            "E2 node RAN function"
        );
    }
}

impl FlexricBackend {
    /// Validates `config`, starts FlexRIC's xApp library towards the near-RT RIC, waits for
    /// an E2 node offering MAC stats, then serves every such node (or the configured one):
    /// logs its RAN functions and subscribes to its MAC stats (and KPM when offered) at the
    /// report period. Nodes that connect later are served as they appear; a node that leaves
    /// the RIC's list is dropped (its cell goes silent).
    pub async fn start(config: FlexricConfig) -> Result<Self, FlexricError> {
        config
            .validate()
            .map_err(|e| FlexricError::Config(e.to_string()))?;
        let IpAddr::V4(ip) = config.ric_addr.ip() else {
            return Err(FlexricError::Config(
                "flexric: ric_addr must be IPv4".into(),
            ));
        };
        let conf_file: PathBuf = config.db_dir.join("maestro-flexric.conf");
        maestro_ffi::flexric::xapp::write_conf_file(&conf_file, ip, &config.db_dir)
            .map_err(|e| FlexricError::Io(format!("{}: {e}", conf_file.display())))?;
        tracing::info!(
            ric = %config.ric_addr,
            sm_dir = %config.sm_dir.display(),
            flexric = maestro_ffi::flexric::BUILT_WITH,
            api = maestro_ffi::flexric::API,
            "starting FlexRIC xApp library (E42 SETUP)"
        );
        let sm_dir = config.sm_dir.clone();
        let xapp = tokio::task::spawn_blocking(move || FlexricXapp::init(ip, &conf_file, &sm_dir))
            .await
            .map_err(|e| FlexricError::Io(e.to_string()))??;
        let xapp = Arc::new(xapp);

        // E2 nodes appear once their E2 SETUP reached the RIC.
        let wait = Duration::from_secs(30);
        let deadline = Instant::now() + wait;
        let list = loop {
            let list = snapshot(&xapp).await?;
            if !servable(&config, &list).is_empty() {
                break list;
            }
            if Instant::now() > deadline {
                let which = config
                    .node_id
                    .as_ref()
                    .map(|n| format!(" with id {n}"))
                    .unwrap_or_default();
                return Err(FlexricError::NoNode(which, wait));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        list.nodes().iter().for_each(log_ran_functions);

        let (reports, _) = broadcast::channel(256);
        let members: Vec<RrmPolicyMember> =
            config.slices.iter().map(|s| s.member.clone()).collect();
        let common = Arc::new(Common {
            config,
            reports: Mutex::new(Some(reports)),
            sequence: AtomicU64::new(0),
            lost: AtomicBool::new(false),
        });
        let requests = Arc::new(Mutex::new(()));
        let nodes = Arc::new(RwLock::new(BTreeMap::new()));
        for index in servable(&common.config, &list) {
            let node = serve(&common, &requests, &list, index).await?;
            write(&nodes).insert(node.state.cell_id.clone(), node);
        }
        let tasks = vec![
            tokio::spawn(watch(Arc::clone(&common), Arc::clone(&nodes))),
            tokio::spawn(follow_nodes(
                Arc::clone(&xapp),
                Arc::clone(&common),
                Arc::clone(&requests),
                Arc::clone(&nodes),
            )),
        ];
        Ok(Self {
            common,
            members,
            nodes,
            requests,
            _xapp: xapp,
            tasks,
        })
    }

    fn node_of(&self, cell_id: &str) -> Option<ServedNode> {
        read(&self.nodes).get(cell_id).cloned()
    }
}

/// Serves node `index` of `list`: subscribes to its MAC stats (and KPM when offered and
/// allowed), its reports named by its cell.
async fn serve(
    common: &Arc<Common>,
    requests: &Arc<Mutex<()>>,
    list: &Arc<NodeList>,
    index: usize,
) -> Result<ServedNode, FlexricError> {
    let ffi_node = list.nodes()[index].clone();
    let cell_id = cell_of(&common.config, &ffi_node);
    tracing::info!(node = %ffi_node.id, cell = %cell_id, "serving E2 node");
    let state = Arc::new(NodeState {
        cell_id,
        max_ratio: Mutex::new(vec![None; common.config.slices.len()]),
        mac: Mutex::new(MacState {
            prev: HashMap::new(),
            last_tstamp_us: None,
            last_frame: None,
        }),
        last_indication: Mutex::new(Instant::now()),
        last_had_ues: AtomicBool::new(false),
        kpm_last: Mutex::new(None),
        kpm_index: Mutex::new((None, None)),
        rc_refusal_logged: AtomicBool::new(false),
        kpm_since: Mutex::new(None),
        kpm_heard: AtomicBool::new(false),
        kpm_silence_logged: AtomicBool::new(false),
    });
    let period = u32::try_from(common.config.report_period_ms)
        .map_err(|_| FlexricError::Config("report_period_ms too large".into()))?;
    let mac_period = mac_interval_ms(common.config.report_period_ms);
    {
        let (c, s, l, r) = (
            Arc::clone(common),
            Arc::clone(&state),
            Arc::clone(list),
            Arc::clone(requests),
        );
        let h = tokio::task::spawn_blocking(move || {
            let _one_at_a_time = lock(&r);
            l.subscribe_mac(index, mac_period, move |ind| on_mac(&c, &s, ind))
        })
        .await
        .map_err(|e| FlexricError::Io(e.to_string()))??;
        tracing::info!(
            node = %ffi_node.id,
            handle = h,
            interval_ms = mac_period,
            report_period_ms = period,
            "subscribed to MAC stats (142)"
        );
    }
    if common.config.kpm == FlexricKpm::Off {
        tracing::info!("KPM not subscribed: \"kpm\": \"off\" in the config");
    } else if ffi_node.offers(ran_function::KPM) {
        subscribe_kpm(common, &state, requests, list, index, period).await?;
    }
    let rc = if ffi_node.offers(ran_function::RC) {
        match list.rc_advertised(index) {
            Ok(rc) => rc,
            Err(e) => {
                tracing::warn!(node = %ffi_node.id, "RC RAN function definition not read: {e}");
                RcAdvertised::NotDecoded
            }
        }
    } else {
        RcAdvertised::Actions(Vec::new())
    };
    if ffi_node.offers(ran_function::RC) {
        tracing::info!(
            node = %ffi_node.id,
            control = %rc.listed(),
            takes_slice_prb_quota = rc.takes_slice_quota(),
            "RC RAN function: CONTROL advertised"
        );
    }
    Ok(ServedNode {
        list: Arc::clone(list),
        index,
        info: ffi_node_to_info(&ffi_node),
        state,
        rc,
    })
}

/// Follows the RIC's node list (every second): serves a node that connected, drops one that
/// left (its cell then goes silent for the control loop, which marks its policies).
async fn follow_nodes(
    xapp: Arc<FlexricXapp>,
    common: Arc<Common>,
    requests: Arc<Mutex<()>>,
    nodes: Arc<RwLock<BTreeMap<String, ServedNode>>>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Ok(list) = snapshot(&xapp).await else {
            continue;
        };
        let present: Vec<String> = list.nodes().iter().map(|n| n.id.clone()).collect();
        write(&nodes).retain(|cell, n| {
            let stays = present.contains(&n.info.node_id);
            if !stays {
                tracing::warn!(node = %n.info.node_id, %cell, "E2 node left the RIC");
            }
            stays
        });
        let served: Vec<String> = read(&nodes)
            .values()
            .map(|n| n.info.node_id.clone())
            .collect();
        for index in servable(&common.config, &list) {
            let ffi_node = &list.nodes()[index];
            if served.contains(&ffi_node.id) {
                continue;
            }
            tracing::info!(node = %ffi_node.id, "E2 node joined the RIC");
            log_ran_functions(ffi_node);
            match serve(&common, &requests, &list, index).await {
                Ok(node) => {
                    write(&nodes).insert(node.state.cell_id.clone(), node);
                }
                Err(e) => tracing::warn!(node = %ffi_node.id, "E2 node not served: {e}"),
            }
        }
    }
}

fn kpm_sst(config: &FlexricConfig) -> u8 {
    config.slices.first().map_or(1, |s| s.member.sst)
}

/// Chooses (see [`plan_kpm`]) and sends the KPM subscription of `node`; a refusal or a plan
/// that says no is logged, never an error (MAC stats carry the control loop).
async fn subscribe_kpm(
    common: &Arc<Common>,
    state: &Arc<NodeState>,
    requests: &Arc<Mutex<()>>,
    list: &Arc<NodeList>,
    node: usize,
    period: u32,
) -> Result<(), FlexricError> {
    let (l, r) = (Arc::clone(list), Arc::clone(requests));
    let advertised = tokio::task::spawn_blocking(move || {
        let _one_at_a_time = lock(&r);
        l.kpm_advertised(node)
    })
    .await
    .map_err(|e| FlexricError::Io(e.to_string()))?;
    let advertised = match advertised {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("KPM not subscribed: cannot read the node's KPM definition: {e}");
            return Ok(());
        }
    };
    tracing::info!(
        kpm_version = ?maestro_ffi::flexric::KPM_VERSION,
        advertised = ?advertised,
        "KPM RAN function definition"
    );
    let plan = plan_kpm(
        maestro_ffi::flexric::KPM_VERSION,
        maestro_ffi::flexric::SNSSAI_ENCODING,
        &advertised,
        kpm_sst(&common.config),
        &KPM_MEASUREMENTS,
    );
    let request = match plan {
        KpmPlan::Skip(why) => {
            tracing::info!("KPM not subscribed, MAC stats only: {why}");
            return Ok(());
        }
        KpmPlan::Subscribe(r) => r,
    };
    let position = |name: &str| {
        request
            .measurements
            .iter()
            .position(|m| m == name)
            .and_then(|i| u32::try_from(i).ok())
    };
    *lock(&state.kpm_index) = (position(KPM_MEASUREMENTS[0]), position(KPM_MEASUREMENTS[1]));
    let (s, l, r) = (Arc::clone(state), Arc::clone(list), Arc::clone(requests));
    let req = request.clone();
    let r = tokio::task::spawn_blocking(move || {
        let _one_at_a_time = lock(&r);
        l.subscribe_kpm(node, period, &req, move |v| on_kpm(&s, v))
    })
    .await
    .map_err(|e| FlexricError::Io(e.to_string()))?;
    match r {
        Ok(h) => {
            *lock(&state.kpm_since) = Some(Instant::now());
            tracing::info!(
                handle = h,
                condition = ?request.condition,
                "subscribed to KPM (2) REPORT style 4: {:?}",
                request.measurements
            )
        }
        Err(e) => tracing::warn!("KPM subscription failed, MAC stats only: {e}"),
    }
    Ok(())
}

/// How long the E2 side may stay lost before the child exits to be restarted (see [`watch`]).
const LOST_RESTART: Duration = Duration::from_secs(60);

/// What [`watch`] makes of the silence of every served node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Silence {
    /// Some node spoke lately, or the silent ones were idle (no UE when they fell silent).
    Fine,
    /// Every node fell silent right after serving a UE: the node or the RIC is gone.
    Lost,
    /// Lost for [`LOST_RESTART`]: exit, so that a new child's E42 SETUP learns the RIC's nodes.
    Restart,
}

/// `silent`: how long the least silent node has been silent; `after_ue`: one of them served a
/// UE when it fell silent.
fn silence(silent: Duration, after_ue: bool, limit: Duration) -> Silence {
    match (after_ue, silent) {
        (true, s) if s > LOST_RESTART => Silence::Restart,
        (true, s) if s > limit => Silence::Lost,
        _ => Silence::Fine,
    }
}

/// Watches the MAC indications of every served node. A node that went silent with no UE is
/// idle, not lost (OAI's MAC SM sends nothing without a UE): it stays listed and its cell is
/// reported empty ([`super::idle`]). When every node has been silent for `max(5 s, 10
/// periods)` right after serving a UE, the node or the RIC is likely gone: no node is listed
/// any more, so the bridge child tells the xApp its E2 side is down, and it comes back up if
/// indications resume. FlexRIC's xApp learns the RIC's nodes only in its E42 SETUP, so a node
/// that came back is only found by a new child; but FlexRIC's RIC aborts on an E42 SETUP
/// while it has no node (seen live, docs/TESTBED.md F4), so the child exits to be restarted
/// only after [`LOST_RESTART`], time for a restarted gNB to be back.
async fn watch(common: Arc<Common>, nodes: Arc<RwLock<BTreeMap<String, ServedNode>>>) {
    let limit = Duration::from_millis((common.config.report_period_ms * 10).max(5000));
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let (silent, after_ue) = {
            let nodes = read(&nodes);
            let silent = nodes
                .values()
                .map(|n| lock(&n.state.last_indication).elapsed())
                .min()
                .unwrap_or_default();
            let after_ue = nodes
                .values()
                .any(|n| n.state.last_had_ues.load(Ordering::Relaxed));
            (silent, after_ue)
        };
        for n in read(&nodes).values() {
            let st = &n.state;
            let since = lock(&st.kpm_since).map(|t| t.elapsed());
            if kpm_silent(since, st.kpm_heard.load(Ordering::Relaxed), limit)
                && !st.kpm_silence_logged.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    node = %n.info.node_id,
                    cell = %st.cell_id,
                    "KPM subscribed but silent: no KPM indication since the subscription (OAI \
                     sends none while no UE matches the S-NSSAI condition, e.g. without a \
                     core); the MAC stats carry the measurements"
                );
            }
        }
        let was_lost = common.lost.load(Ordering::Relaxed);
        match silence(silent, after_ue, limit) {
            Silence::Fine if was_lost => {
                tracing::info!("MAC stats indications resumed: E2 side back");
                common.lost.store(false, Ordering::Relaxed);
            }
            Silence::Fine => {}
            Silence::Lost if !was_lost => {
                tracing::error!(
                    silent_ms = silent.as_millis() as u64,
                    restart_after_s = LOST_RESTART.as_secs(),
                    "no MAC stats indication since a UE was served: the E2 node or the RIC is \
                     gone; E2 side down (the child restarts later: FlexRIC's RIC aborts on an \
                     xApp that connects while it has no node)"
                );
                common.lost.store(true, Ordering::Relaxed);
            }
            Silence::Lost => {}
            Silence::Restart => {
                tracing::error!(
                    silent_ms = silent.as_millis() as u64,
                    "E2 side still lost: closing the report stream (the e2-bridge child exits \
                     and is restarted; its E42 SETUP learns the RIC's nodes afresh)"
                );
                lock(&common.reports).take();
                return;
            }
        }
    }
}

/// A KPM subscription accepted `subscribed_for` ago that has sent nothing is worth a word
/// after `limit`: OAI sends no KPM indication while no UE matches the S-NSSAI condition (none
/// does without a core; docs/TESTBED.md F8), which otherwise goes unnoticed.
fn kpm_silent(subscribed_for: Option<Duration>, heard: bool, limit: Duration) -> bool {
    !heard && subscribed_for.is_some_and(|d| d > limit)
}

fn on_kpm(shared: &NodeState, values: Vec<KpmValue>) {
    shared.kpm_heard.store(true, Ordering::Relaxed);
    let (thp_i, prb_i) = *lock(&shared.kpm_index);
    let sum = |i: Option<u32>| -> f64 {
        i.map_or(0.0, |i| {
            values.iter().filter(|v| v.meas == i).map(|v| v.value).sum()
        })
    };
    let (thp, prb) = (sum(thp_i), sum(prb_i));
    *lock(&shared.kpm_last) = Some((thp, prb));
    tracing::debug!(
        cell = %shared.cell_id,
        ues = values.len(),
        thp_dl_kbps = thp,
        prb_tot_dl = prb,
        "KPM indication"
    );
}

fn on_mac(common: &Common, shared: &NodeState, ind: MacIndication) {
    *lock(&shared.last_indication) = Instant::now();
    shared
        .last_had_ues
        .store(!ind.ues.is_empty(), Ordering::Relaxed);
    let cfg = &common.config;
    let measurement = {
        let mut mac = lock(&shared.mac);
        let period_ms = match mac.last_tstamp_us {
            // Not yet a full report period since the last report: wait for more.
            Some(t) if ind.tstamp_us - t < cfg.report_period_ms as i64 * 1000 => return,
            Some(t) => ((ind.tstamp_us - t) as u64 / 1000).max(1),
            None => cfg.report_period_ms,
        };
        mac.last_tstamp_us = Some(ind.tstamp_us);
        // The node's own clock, where it stamps the MAC frame (nr::air_time).
        let frame = ind.ues.first().map(|u| u.frame);
        let air_ms = mac
            .last_frame
            .zip(frame)
            .and_then(|(prev, now)| air_time::frames_elapsed_ms(prev, now));
        mac.last_frame = frame;
        tracing::debug!(
            cell = %shared.cell_id,
            wall_ms = period_ms,
            air_ms,
            "MAC report period on both clocks"
        );
        let ratios = lock(&shared.max_ratio).clone();
        build_measurement(
            cfg,
            &shared.cell_id,
            &ratios,
            &mut mac.prev,
            &ind,
            air_time::Elapsed {
                wall_ms: period_ms,
                air_ms,
            },
            common.sequence.fetch_add(1, Ordering::Relaxed),
        )
    };
    if let Some(tx) = lock(&common.reports).as_ref() {
        let _ = tx.send(Arc::new(measurement));
    }
}

/// Turns one MAC indication into a [`CellMeasurement`]: per slice, its UEs' wide-band CQI
/// (0..=15, TS 38.214 Table 5.2.2.1-2; out-of-range values are clamped), MCS (0..=28), mean
/// PRBs per DL slot and DL throughput from the cumulative PRB and TB-byte counters' growth
/// since the previous indication (a counter that went backwards counts as a restart: 0).
/// PRBs per slot are over the air time when the node's frame numbers gave it, else over the
/// wall time; throughput is per wall second (what a user of the slice sees).
fn build_measurement(
    cfg: &FlexricConfig,
    cell_id: &str,
    max_ratio: &[Option<u8>],
    prev: &mut HashMap<u16, UePrev>,
    ind: &MacIndication,
    elapsed: air_time::Elapsed,
    sequence: u64,
) -> CellMeasurement {
    let n_prb = cfg.cell.n_prb;
    let period_ms = elapsed.wall_ms;
    let secs = period_ms as f64 / 1000.0;
    let mut slices: Vec<SliceMeasurement> = cfg
        .slices
        .iter()
        .enumerate()
        .map(|(i, s)| SliceMeasurement {
            member: s.member.clone(),
            prb_quota: max_ratio
                .get(i)
                .copied()
                .flatten()
                .map_or(n_prb, |r| prbs_for_ratio(r, n_prb)),
            prb_used: 0.0,
            dl_throughput_bps: 0.0,
            ues: Vec::new(),
        })
        .collect();
    let mut seen = HashMap::with_capacity(ind.ues.len());
    for ue in &ind.ues {
        let before = prev.get(&ue.rnti).copied();
        let (tbs, prb) = match before {
            Some(p) => (
                ue.dl_aggr_tbs.saturating_sub(p.dl_aggr_tbs),
                ue.dl_aggr_prb.saturating_sub(p.dl_aggr_prb),
            ),
            None => (0, 0),
        };
        seen.insert(
            ue.rnti,
            UePrev {
                dl_aggr_tbs: ue.dl_aggr_tbs,
                dl_aggr_prb: ue.dl_aggr_prb,
            },
        );
        let prbs = air_time::prbs_per_dl_slot(&cfg.cell, u64::from(prb), elapsed);
        let thp = tbs as f64 * 8.0 / secs;
        let i = cfg.slice_of(ue.rnti);
        if let Some(s) = slices.get_mut(i) {
            s.prb_used += prbs;
            s.dl_throughput_bps += thp;
            s.ues.push(UeMeasurement {
                ue_id: u32::from(ue.rnti),
                wb_cqi: ue.wb_cqi.min(15),
                mcs: ue.dl_mcs.min(28),
                prbs,
                dl_throughput_bps: thp,
            });
        }
    }
    *prev = seen;
    CellMeasurement {
        sequence,
        time_ms: u64::try_from(ind.tstamp_us / 1000).unwrap_or(0),
        period_ms,
        cell_id: cell_id.to_owned(),
        n_prb,
        slices,
    }
}

/// STATIC SLICE SM ranges for `control`: slices side by side from PRB 0, each as wide as its
/// max PRB ratio of the carrier (TS 28.541 clause 5.3.43), clipped to the carrier.
fn static_slices(control: &SlicePrbQuotaControl, n_prb: u16) -> Vec<StaticSlice> {
    let mut start = 0u32;
    control
        .groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let width = u32::from(prbs_for_ratio(g.max_prb_ratio, n_prb));
            if width == 0 || start >= u32::from(n_prb) {
                return None;
            }
            let high = (start + width - 1).min(u32::from(n_prb) - 1);
            let s = StaticSlice {
                id: i as u32,
                pos_low: start,
                pos_high: high,
                label: format!(
                    "{}{}-sst{}-sd{}",
                    g.member.mcc,
                    g.member.mnc,
                    g.member.sst,
                    g.member
                        .sd
                        .map_or_else(|| "none".into(), |sd| format!("{sd:06x}"))
                ),
            };
            start = high + 1;
            Some(s)
        })
        .collect()
}

/// Whether the quota goes out as E2SM-RC (else FlexRIC's SLICE SM) under `control`, for a
/// node that does or does not offer the SLICE SM (145). `auto` prefers the SLICE SM when the
/// node offers it: upstream OAI offers both, and its RC handler asserts on any control but
/// style 1 action 2 (`ran_func_rc.c` `write_ctrl_rc_sm`: "Currently only QoS flow mapping
/// configuration supported"), taking the gNB down, while its SLICE handler acknowledges.
/// Nodes without the SLICE SM (srsRAN) get RC style 2 action 6.
fn uses_rc(control: FlexricControl, offers_slice: bool) -> bool {
    match control {
        FlexricControl::Rc => true,
        FlexricControl::Slice => false,
        FlexricControl::Auto => !offers_slice,
    }
}

impl E2Backend for FlexricBackend {
    fn name(&self) -> &'static str {
        "flexric"
    }

    fn cell(&self) -> &CellConfig {
        &self.common.config.cell
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        &self.members
    }

    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        read(&self.nodes).contains_key(cell_id).then(|| ServedCell {
            carrier: self.common.config.cell.clone(),
            slices: self.members.clone(),
        })
    }

    fn cell_ids(&self) -> Vec<String> {
        read(&self.nodes).keys().cloned().collect()
    }

    fn nodes(&self) -> Vec<E2NodeInfo> {
        read(&self.nodes).values().map(|n| n.info.clone()).collect()
    }

    /// The cells of the nodes the RIC lists (as far as FlexRIC tells, [`follow_nodes`]); none
    /// while the E2 side is lost ([`watch`]).
    fn listed_cells(&self) -> Option<Vec<String>> {
        if self.common.lost.load(Ordering::Relaxed) {
            return Some(Vec::new());
        }
        Some(self.cell_ids())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        super::subscribe_or_ended(lock(&self.common.reports).as_ref())
    }

    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        let first = read(&self.nodes).keys().next().cloned();
        Box::pin(async move {
            match first {
                Some(cell) => self.control_cell(&cell, control).await,
                None => Err(E2Error::Unreachable("no E2 node is served".into())),
            }
        })
    }

    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        let node = self.node_of(cell_id);
        let cell_id = cell_id.to_owned();
        Box::pin(async move {
            let Some(node) = node else {
                return Ok(ControlOutcome::Failed {
                    cause: format!("no E2 node serves cell {cell_id} (it left the RIC)"),
                });
            };
            control
                .validate()
                .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
            let mut updates = Vec::with_capacity(control.groups.len());
            for g in &control.groups {
                match self.members.iter().position(|m| m == &g.member) {
                    Some(i) => updates.push((i, g.max_prb_ratio)),
                    None => {
                        return Ok(ControlOutcome::Failed {
                            cause: format!("unknown slice {:?}", g.member),
                        })
                    }
                }
            }
            let cfg = &self.common.config;
            let offers = |id| node.info.ran_functions.iter().any(|f| f.id == id);
            let use_rc = uses_rc(cfg.control, offers(ran_function::SLICE));
            let (list, index, requests) = (
                Arc::clone(&node.list),
                node.index,
                Arc::clone(&self.requests),
            );
            if use_rc && !node.rc.takes_slice_quota() {
                // Never sent: upstream OAI aborts the gNB on an RC control it did not list.
                let cause = format!(
                    "E2 node {} advertises RC CONTROL {} only, not style {} action {} (slice PRB \
                     quota): control not sent",
                    node.info.node_id,
                    node.rc.listed(),
                    rc_plan::SLICE_QUOTA_STYLE,
                    rc_plan::SLICE_QUOTA_ACTION
                );
                if !node.state.rc_refusal_logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(cell = %cell_id, "{cause}");
                }
                return Ok(ControlOutcome::Failed { cause });
            }
            let result = if use_rc {
                let leaves = cfg.rc_dialect.leaf_encoding(cfg.rc_leaf_encoding);
                let tree = quota_tree(&control, cfg.rc_dialect, leaves)
                    .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
                tokio::task::spawn_blocking(move || {
                    let _one_at_a_time = lock(&requests);
                    list.rc_control(
                        index,
                        u32::from(CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION),
                        u16::from(CONTROL_ACTION_SLICE_PRB_QUOTA),
                        &tree,
                    )
                })
                .await
            } else {
                let slices = static_slices(&control, cfg.cell.n_prb);
                tokio::task::spawn_blocking(move || {
                    let _one_at_a_time = lock(&requests);
                    list.slice_static(index, &slices)
                })
                .await
            };
            let kind = if use_rc {
                "E2SM-RC style 2 action 6"
            } else {
                "SLICE SM static"
            };
            match result {
                Err(join) => Err(E2Error::Unreachable(join.to_string())),
                Ok(Err(e)) => {
                    tracing::warn!(cell = %cell_id, "{kind} control refused: {e}");
                    Ok(ControlOutcome::Failed {
                        cause: e.to_string(),
                    })
                }
                Ok(Ok(())) => {
                    let mut ratios = lock(&node.state.max_ratio);
                    for (i, r) in updates {
                        ratios[i] = Some(r);
                    }
                    tracing::info!(
                        cell = %cell_id,
                        node = %node.info.node_id,
                        groups = control.groups.len(),
                        "{kind} control acknowledged by the E2 node"
                    );
                    Ok(ControlOutcome::Acknowledged)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2::flexric_config::FlexricSlice;
    use maestro_e2sm::rc::RrmPolicyRatioGroup;
    use maestro_ffi::flexric::MacUe;

    fn wall(ms: u64) -> air_time::Elapsed {
        air_time::Elapsed {
            wall_ms: ms,
            air_ms: None,
        }
    }

    fn ue(rnti: u16, cqi: u8, tbs: u64, prb: u32) -> MacUe {
        MacUe {
            rnti,
            wb_cqi: cqi,
            dl_mcs: 40,
            dl_bler: 0.0,
            dl_aggr_tbs: tbs,
            dl_curr_tbs: 0,
            dl_sched_rb: 0,
            dl_aggr_prb: prb,
            frame: 0,
        }
    }

    fn config() -> FlexricConfig {
        let mut c = FlexricConfig::default();
        c.slices[0].rntis = vec![10];
        c.slices[1].rntis = vec![11];
        c
    }

    #[test]
    fn mac_counters_become_rates_per_slice() {
        let cfg = config();
        let mut prev = HashMap::new();
        let first = MacIndication {
            tstamp_us: 1_000_000,
            ues: vec![ue(10, 12, 1_000, 100), ue(11, 200, 5_000, 0)],
        };
        let m0 = build_measurement(
            &cfg,
            "001-01-0000000010",
            &[None, Some(50)],
            &mut prev,
            &first,
            wall(100),
            0,
        );
        assert_eq!(m0.cell_id, "001-01-0000000010");
        // first sight of a UE: no rate yet
        assert_eq!(m0.slices[0].ues[0].dl_throughput_bps, 0.0);
        assert_eq!(m0.slices[0].prb_quota, 106);
        assert_eq!(m0.slices[1].prb_quota, 53);
        // CQI 200 clamped to 15, MCS 40 to 28
        assert_eq!(m0.slices[1].ues[0].wb_cqi, 15);
        assert_eq!(m0.slices[1].ues[0].mcs, 28);
        let second = MacIndication {
            tstamp_us: 1_100_000,
            ues: vec![ue(10, 12, 126_000, 100 + 1_600), ue(11, 9, 4_000, 0)],
        };
        let m1 = build_measurement(
            &cfg,
            "c",
            &[None, Some(50)],
            &mut prev,
            &second,
            wall(100),
            1,
        );
        // 125 000 bytes in 0.1 s = 10 Mbit/s
        assert_eq!(m1.slices[0].dl_throughput_bps, 10_000_000.0);
        // 30 kHz: 2 slots/ms, 8 of 10 DL: 160 DL slots in 100 ms; 1600 PRBs -> 10 per slot
        assert_eq!(m1.slices[0].ues[0].prbs, 10.0);
        // counter went backwards: 0, not a huge number
        assert_eq!(m1.slices[1].dl_throughput_bps, 0.0);
        assert_eq!(m1.sequence, 1);
        assert_eq!(m1.time_ms, 1_100);
    }

    #[test]
    fn unlisted_rntis_spread_by_modulo_and_empty_indications_keep_slices() {
        let cfg = config();
        let mut prev = HashMap::new();
        let ind = MacIndication {
            tstamp_us: 0,
            ues: vec![ue(7, 3, 0, 0), ue(8, 4, 0, 0)],
        };
        let m = build_measurement(&cfg, "c", &[None, None], &mut prev, &ind, wall(100), 0);
        assert_eq!(m.ue_cqis(&cfg.slices[1].member), vec![3]); // 7 % 2 = 1
        assert_eq!(m.ue_cqis(&cfg.slices[0].member), vec![4]); // 8 % 2 = 0
        let empty = MacIndication {
            tstamp_us: 0,
            ues: vec![],
        };
        let m = build_measurement(&cfg, "c", &[None, None], &mut prev, &empty, wall(100), 1);
        assert_eq!(m.slices.len(), 2);
        assert!(m.slices.iter().all(|s| s.ues.is_empty()));
        assert!(prev.is_empty());
    }

    #[test]
    fn kpm_reports_on_the_first_slice_sst() {
        let mut cfg = config();
        assert_eq!(kpm_sst(&cfg), 1);
        cfg.slices[0].member.sst = 2;
        assert_eq!(kpm_sst(&cfg), 2);
    }

    #[test]
    fn auto_control_prefers_the_slice_sm_a_node_offers() {
        // OAI offers RC and SLICE: RC style 2 would abort it.
        assert!(!uses_rc(FlexricControl::Auto, true));
        // srsRAN offers RC only.
        assert!(uses_rc(FlexricControl::Auto, false));
        assert!(uses_rc(FlexricControl::Rc, true));
        assert!(!uses_rc(FlexricControl::Slice, false));
    }

    #[test]
    fn silence_after_a_ue_is_lost_then_restarts_and_idle_silence_is_fine() {
        let limit = Duration::from_secs(5);
        let s = Duration::from_secs;
        assert_eq!(silence(s(1), true, limit), Silence::Fine);
        assert_eq!(silence(s(6), true, limit), Silence::Lost);
        assert_eq!(silence(s(61), true, limit), Silence::Restart);
        // An idle cell (no UE when it fell silent) is never lost, however long.
        assert_eq!(silence(s(600), false, limit), Silence::Fine);
    }

    #[test]
    fn a_kpm_subscription_silent_past_the_limit_is_worth_a_word() {
        let limit = Duration::from_secs(5);
        let s = Duration::from_secs;
        assert!(!kpm_silent(None, false, limit), "not subscribed");
        assert!(!kpm_silent(Some(s(3)), false, limit), "not yet");
        assert!(kpm_silent(Some(s(6)), false, limit));
        assert!(!kpm_silent(Some(s(60)), true, limit), "indications came");
    }

    #[test]
    fn mac_interval_is_one_flexric_offers() {
        assert_eq!(mac_interval_ms(5), 5);
        assert_eq!(mac_interval_ms(10), 10);
        assert_eq!(mac_interval_ms(100), 10);
        assert_eq!(mac_interval_ms(1000), 10);
    }

    #[test]
    fn static_slices_sit_side_by_side_within_the_carrier() {
        let cfg = config();
        let s: Vec<FlexricSlice> = cfg.slices.clone();
        let control = SlicePrbQuotaControl {
            groups: vec![
                RrmPolicyRatioGroup::new(s[0].member.clone(), 10, 60, 0).unwrap(),
                RrmPolicyRatioGroup::new(s[1].member.clone(), 10, 70, 0).unwrap(),
            ],
        };
        let r = static_slices(&control, 106);
        // 60 % of 106 = 63 PRBs: 0..=62; then 70 % = 74 PRBs clipped at 105
        assert_eq!((r[0].pos_low, r[0].pos_high), (0, 62));
        assert_eq!((r[1].pos_low, r[1].pos_high), (63, 105));
        assert_eq!(r[0].label, "00101-sst1-sd000001");
    }
}
