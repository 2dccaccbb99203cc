// Follows a rebuild job on its console page: asks the job's status every second, moves the
// progress bar, and shows the outcome when the job ends (without scripts, the page reloads
// itself instead).

const EVERY_MS = 1000;

export function mount(box) {
  if (box.dataset.done === "true") return;
  const state = box.querySelector("[data-job-state]");
  const bar = box.querySelector("[data-job-progress]");
  const detail = box.querySelector("[data-job-detail]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        state.textContent = job.state;
        bar.max = Math.max(job.head, 1);
        bar.value = job.position;
        bar.textContent = `${job.position} / ${job.head}`;
        detail.textContent = job.detail;
        if (job.done) {
          box.dataset.done = "true";
          box.dataset.state = job.state;
          return;
        }
      }
    } catch (_) {
      // Offline for a moment: try again at the next tick.
    }
    setTimeout(poll, EVERY_MS);
  };
  setTimeout(poll, EVERY_MS);
}
