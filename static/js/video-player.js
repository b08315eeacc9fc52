// A video page's uploaded player: chapters seek it, and a gated video stops at the end
// of its free minutes and shows the lead form (content/_video.html). Without this
// script the chapters are plain links and the form is shown below the player anyway.
const player = document.querySelector("video#video-player");
if (player) {
  const free = Number(player.dataset.freeSeconds || 0);
  const gate = document.getElementById("video-gate");

  const stopAtTheGate = () => {
    if (!free || player.currentTime < free) return;
    if (!player.paused) player.pause();
    // Back to the end of the free part only from past it: setting the same time again
    // would fire "seeking" again.
    if (player.currentTime > free + 0.5) player.currentTime = free;
    if (gate && !gate.classList.contains("is-open")) {
      gate.classList.add("is-open");
      gate.scrollIntoView({ block: "nearest" });
      gate.focus({ preventScroll: true });
    }
  };

  player.addEventListener("timeupdate", stopAtTheGate);
  player.addEventListener("seeking", stopAtTheGate);

  for (const link of document.querySelectorAll("[data-seek]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      player.currentTime = Number(link.dataset.seek);
      for (const other of document.querySelectorAll("[data-seek][aria-current]")) other.removeAttribute("aria-current");
      link.setAttribute("aria-current", "true");
      stopAtTheGate();
      if (player.currentTime < free || !free) player.play().catch(() => {});
    });
  }
}
