// A video page's uploaded player: chapters seek it, and a gated video stops at the end
// of its free minutes and shows the lead form (content/_video.html). Without this
// script the chapters are plain links and the form is shown below the player anyway.
const player = document.querySelector("video#video-player");
if (player) {
  const free = Number(player.dataset.freeSeconds || 0);
  const gate = document.getElementById("video-gate");

  const stopAtTheGate = () => {
    if (!free || player.currentTime < free) return;
    player.pause();
    player.currentTime = free;
    if (gate) {
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
