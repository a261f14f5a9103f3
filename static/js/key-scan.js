// Scan the ballot box key card with the tablet's camera, where the browser can read QR codes.
// Progressive enhancement only: without a camera or BarcodeDetector the key is typed.
(function () {
  "use strict";
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  var holder = document.querySelector(".key-scan");
  var input = document.querySelector("[data-key-input]");
  if (!holder || !input) { return; }
  holder.hidden = false;
  holder.querySelector("[data-key-scan]").addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.className = "key-scan-video";
    holder.appendChild(video);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (stream) {
        video.srcObject = stream;
        video.play();
        var stop = function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          video.remove();
        };
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              input.value = codes[0].rawValue;
              stop();
              input.focus();
            } else {
              window.setTimeout(look, 300);
            }
          }, stop);
        };
        look();
      }, function () { video.remove(); });
  });
})();
