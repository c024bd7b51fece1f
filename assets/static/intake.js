// Goods intake: scan a label with the phone camera. The browser's own QR decoder
// (BarcodeDetector) where it has one; elsewhere jsQR, served from /assets and loaded on first
// use. Without a camera or JavaScript, the code is scanned with a scanner or pasted instead.
(function () {
  "use strict";
  var button = document.getElementById("camera");
  var video = document.getElementById("preview");
  var input = document.getElementById("label");
  if (!button || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  button.hidden = false;

  // Resolves to a function that reads a QR code from the video (its text, or null).
  function decoder() {
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function () {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      });
    }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = "/assets/jsQR.js";
      script.onerror = reject;
      script.onload = function () {
        var canvas = document.createElement("canvas");
        var context = canvas.getContext("2d", { willReadFrequently: true });
        resolve(function () {
          if (!video.videoWidth) return Promise.resolve(null);
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0);
          var frame = context.getImageData(0, 0, canvas.width, canvas.height);
          var code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
          return Promise.resolve(code ? code.data : null);
        });
      };
      document.head.appendChild(script);
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    var camera = navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    Promise.all([decoder(), camera])
      .then(function (ready) {
        var decode = ready[0];
        var stream = ready[1];
        video.srcObject = stream;
        video.hidden = false;
        return video.play().then(function () {
          var busy = false;
          var timer = setInterval(function () {
            if (busy) return;
            busy = true;
            decode().then(function (text) {
              busy = false;
              if (!text) return;
              clearInterval(timer);
              stream.getTracks().forEach(function (t) { t.stop(); });
              input.value = text;
              input.form.submit();
            }, function () { busy = false; });
          }, 250);
        });
      })
      .catch(function () { button.hidden = true; });
  });
})();
