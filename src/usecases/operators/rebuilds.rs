//! Rebuilds of a view started from the operators' API: each runs as a background job beside
//! the live views (the projector's shadow rebuild), and its progress and result are kept in
//! memory for the status URL. One rebuild per view at a time in this process.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use projections::{ProjectionError, Projector, RebuildReport};
use uuid::Uuid;

/// Why a rebuild did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no view of that name")]
    UnknownView,
    #[error("a rebuild of {0} is running already; follow its status URL")]
    AlreadyRunning(&'static str),
    /// The view's rebuild lock could not be taken (not a rebuild running: an I/O failure).
    #[error("the rebuild could not claim its view: {0}")]
    Claim(#[source] ProjectionError),
}

/// Finished jobs kept for their status URL (the oldest are forgotten first).
const FINISHED_KEPT: usize = 100;

/// Where a job is.
#[derive(Debug, Clone)]
pub enum JobState {
    Running,
    Succeeded(RebuildReport),
    /// Failed; the server log has the cause (the message shown is deliberately plain).
    Failed,
}

/// What the status URL shows of one job.
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub id: Uuid,
    pub projection: &'static str,
    pub state: JobState,
    /// The log position the shadow has reached, and the log's head then.
    pub position: i64,
    pub head: i64,
    /// Events applied per second so far.
    pub events_per_second: f64,
    pub started_at: String,
    pub finished_at: Option<String>,
}

struct Job {
    id: Uuid,
    projection: &'static str,
    position: AtomicI64,
    head: AtomicI64,
    started: Instant,
    started_at: String,
    outcome: Mutex<(JobState, Option<String>, Duration)>,
}

impl Job {
    fn status(&self) -> JobStatus {
        let (state, finished_at, took) = self.outcome.lock().expect("job lock").clone();
        let running = matches!(state, JobState::Running);
        let elapsed = if running {
            self.started.elapsed()
        } else {
            took
        };
        let position = self.position.load(Ordering::Relaxed);
        JobStatus {
            id: self.id,
            projection: self.projection,
            state,
            position,
            head: self.head.load(Ordering::Relaxed),
            events_per_second: position as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            started_at: self.started_at.clone(),
            finished_at,
        }
    }

    fn is_running(&self) -> bool {
        matches!(self.outcome.lock().expect("job lock").0, JobState::Running)
    }
}

/// The rebuild jobs of this process.
pub struct RebuildJobs {
    projector: Arc<Projector>,
    jobs: Mutex<BTreeMap<Uuid, Arc<Job>>>,
}

impl RebuildJobs {
    pub fn new(projector: Arc<Projector>) -> Self {
        Self {
            projector,
            jobs: Mutex::new(BTreeMap::new()),
        }
    }

    /// Starts rebuilding view `name` in the background.
    pub fn start(&self, name: &str) -> Result<JobStatus, StartError> {
        let selected = self
            .projector
            .select(&[name.to_owned()])
            .map_err(|_| StartError::UnknownView)?;
        let projection = selected[0].name();
        // Claimed before the job exists: a rebuild of this view running in another process
        // (`billstream replay`, another node) refuses this one as a running job here would.
        let claim = self
            .projector
            .claim(selected)
            .map_err(|error| match error {
                ProjectionError::RebuildRunning(view) => StartError::AlreadyRunning(view),
                other => StartError::Claim(other),
            })?;
        let job = Arc::new(Job {
            id: Uuid::new_v4(),
            projection,
            position: AtomicI64::new(0),
            head: AtomicI64::new(0),
            started: Instant::now(),
            started_at: now(),
            outcome: Mutex::new((JobState::Running, None, Duration::ZERO)),
        });
        {
            let mut jobs = self.jobs.lock().expect("jobs lock");
            if jobs
                .values()
                .any(|other| other.projection == projection && other.is_running())
            {
                return Err(StartError::AlreadyRunning(projection));
            }
            forget_oldest_finished(&mut jobs);
            jobs.insert(job.id, job.clone());
        }
        let projector = self.projector.clone();
        let running = job.clone();
        tokio::spawn(async move {
            let progress_job = running.clone();
            let on_progress = move |position: i64, head: i64| {
                progress_job.position.store(position, Ordering::Relaxed);
                progress_job.head.store(head, Ordering::Relaxed);
            };
            let state = match projector.rebuild(&claim, &on_progress).await {
                Ok(report) => {
                    tracing::info!(
                        projection,
                        events = report.events,
                        swap_ms = report.swap.as_millis() as u64,
                        "view rebuilt"
                    );
                    JobState::Succeeded(report)
                }
                Err(error) => {
                    tracing::error!(projection, %error, "view rebuild failed");
                    JobState::Failed
                }
            };
            *running.outcome.lock().expect("job lock") =
                (state, Some(now()), running.started.elapsed());
        });
        Ok(job.status())
    }

    /// The status of job `id`, if this process knows it.
    pub fn status(&self, id: &str) -> Option<JobStatus> {
        let id = Uuid::parse_str(id).ok()?;
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.get(&id).map(|job| job.status())
    }
}

fn forget_oldest_finished(jobs: &mut BTreeMap<Uuid, Arc<Job>>) {
    let mut finished: Vec<(Instant, Uuid)> = jobs
        .values()
        .filter(|job| !job.is_running())
        .map(|job| (job.started, job.id))
        .collect();
    if finished.len() < FINISHED_KEPT {
        return;
    }
    finished.sort();
    for (_, id) in finished.iter().take(finished.len() + 1 - FINISHED_KEPT) {
        jobs.remove(id);
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
