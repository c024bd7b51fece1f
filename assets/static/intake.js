// Goods intake: scan a label with the phone camera where the browser can decode QR codes
// (BarcodeDetector); everywhere else the code is pasted or typed into the form.
(function () {
  "use strict";
  var button = document.getElementById("camera");
  var video = document.getElementById("preview");
  var input = document.getElementById("label");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" } })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        return video.play().then(function () {
          var timer = setInterval(function () {
            detector.detect(video).then(function (codes) {
              if (codes.length === 0) return;
              clearInterval(timer);
              stream.getTracks().forEach(function (t) { t.stop(); });
              input.value = codes[0].rawValue;
              input.form.submit();
            });
          }, 300);
        });
      })
      .catch(function () { button.hidden = true; });
  });
})();
