// _telltale: the Python binding of the telltale hook and detector (pybind11), a thin layer over the C++ API, and of the
// verifier library's tokenizer and model-aware tests (verify/model: the code `detect --model` and `attribute` run).
// Logits are edited in place with no copy, from any CPU float32 buffer (NumPy) or DLPack tensor (torch); the GIL is
// released while the C++ hook runs, so Python threads can drive disjoint rows in parallel.
#include <dlfcn.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attrib/account_registry.hpp"
#include "input/tokenizer.hpp"
#include "model/sequence_attribution.hpp"
#include "model/sequence_detection.hpp"
#include "model/weighted_detection.hpp"
#include "telltale.h"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"
#include "telltale/status.hpp"

namespace py = pybind11;

namespace {

// ---- errors ----

// Raised for unusable key material or key files. It is both an OSError (a missing or unsafe file) and a ValueError
// (a corrupt one), so callers can catch it either way. Created at import; the module keeps the only reference.
PyObject* g_key_file_error = nullptr;

[[noreturn]] void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw py::error_already_set();
}

// Maps a telltale::Status to the Python exception a caller would expect for it. Call with the GIL held.
[[noreturn]] void throw_status(const telltale::Status& s) {
  using telltale::StatusCode;
  switch (s.code()) {
    case StatusCode::kInvalidArgument: raise(PyExc_ValueError, s.message());
    case StatusCode::kKey: raise(g_key_file_error, s.message());
    case StatusCode::kIo: raise(PyExc_OSError, s.message());
    case StatusCode::kUnsupported: raise(PyExc_NotImplementedError, s.message());
    case StatusCode::kNoMemory: raise(PyExc_MemoryError, s.message());
    default: raise(PyExc_RuntimeError, s.message());
  }
}

void check(const telltale::Status& s) {
  if (!s.is_ok()) throw_status(s);
}

template <typename T>
T take(telltale::Result<T>&& r) {
  if (!r.is_ok()) throw_status(r.status());
  return std::move(r).value();
}

// ---- scheme names ----

telltale::SchemeKind parse_scheme(const std::string& name) {
  const std::optional<telltale::SchemeKind> kind = telltale::parse_scheme(name);
  if (!kind) {
    raise(PyExc_ValueError, "unknown scheme '" + name + "' (expected one of " + telltale::scheme_name_list() + ")");
  }
  return *kind;
}

// ---- scheme fields (the scheme table's, one name each) ----

// A scheme field's value as Python sees it: a float, an int, or the name of a choice.
py::object field_value(const telltale::SchemeField& f, const telltale::SchemeParams& p) {
  const double v = f.get(p);
  switch (f.type) {
    case telltale::SchemeField::Type::kFraction:
    case telltale::SchemeField::Type::kLogits: return py::float_(v);
    case telltale::SchemeField::Type::kCount: return py::int_(static_cast<uint32_t>(v));
    case telltale::SchemeField::Type::kChoice: return py::str(f.choices[static_cast<size_t>(v)]);
  }
  return py::none();
}

void set_field(const telltale::SchemeField& f, telltale::SchemeParams& p, const py::handle& value) {
  try {
    switch (f.type) {
      case telltale::SchemeField::Type::kFraction:
      case telltale::SchemeField::Type::kLogits: return f.set(p, value.cast<double>());
      case telltale::SchemeField::Type::kCount: return f.set(p, static_cast<double>(value.cast<uint32_t>()));
      case telltale::SchemeField::Type::kChoice: {
        const std::string name = value.cast<std::string>();
        std::string expected;
        for (size_t i = 0; i < f.choices.size(); ++i) {
          if (name == f.choices[i]) return f.set(p, static_cast<double>(i));
          expected += std::string(i == 0 ? "'" : ", '") + f.choices[i] + "'";
        }
        raise(PyExc_ValueError, "unknown " + std::string(f.label) + " '" + name + "' (expected " + expected + ")");
      }
    }
  } catch (const py::cast_error&) {
    const char* what = f.type == telltale::SchemeField::Type::kCount    ? "a non-negative int"
                       : f.type == telltale::SchemeField::Type::kChoice ? "a str"
                                                                        : "a float";
    raise(PyExc_TypeError, std::string(f.name) + " must be " + what);
  }
}

// ---- objects ----

// The hook is shared by every Sequence made from it (a SeqState points into the hook), so Python holds it by
// shared_ptr and each Sequence keeps its hook alive.
struct PyHook {
  telltale::Hook hook;
};

struct PySequence {
  PySequence(std::shared_ptr<PyHook> h, telltale::SeqState s) : owner(std::move(h)), state(std::move(s)) {}
  std::shared_ptr<PyHook> owner;
  telltale::SeqState state;
  // A sequence has one writer at a time. The GIL is released during hook calls, so two Python threads could
  // otherwise reach the same state at once (or one call could list it twice); this flag turns that into an error.
  std::atomic<bool> busy{false};
};

struct PyDetector {
  explicit PyDetector(telltale::Detector d) : det(std::move(d)) {}
  telltale::Detector det;
  std::atomic<bool> busy{false};
};

// Holds the busy flags of the sequences (or detector) one call uses, and releases them however the call ends.
class BusyGuard {
 public:
  BusyGuard() = default;
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  ~BusyGuard() {
    for (std::atomic<bool>* f : held_) f->store(false, std::memory_order_release);
  }
  void acquire(std::atomic<bool>& flag, const char* what) {
    bool expected = false;
    if (!flag.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      raise(PyExc_RuntimeError, std::string(what) +
                                    " is already in use (listed twice in one call, or used by another thread at "
                                    "the same time: one writer per sequence)");
    }
    held_.push_back(&flag);
  }

 private:
  std::vector<std::atomic<bool>*> held_;
};

// ---- logits: buffer protocol or DLPack, never a copy ----

// The DLPack ABI (dmlc/dlpack, dlpack.h): only the structs and constants this import needs, declared here so the
// build needs no dlpack package. Layouts are fixed by the DLPack specification (0.x legacy and 1.x versioned).
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned*);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr int32_t kDLCPU = 1;
constexpr uint8_t kDLFloat = 2;
constexpr uint64_t kDLPackFlagReadOnly = 1;

// A writable float32 view of a 2-D CPU array, borrowed for the length of one call. The inner dimension must be
// contiguous; rows may be padded (row stride >= vocabulary), which the hook reads as row_stride.
class Logits {
 public:
  explicit Logits(const py::handle& obj) {
    if (PyObject_CheckBuffer(obj.ptr())) {
      from_buffer(obj);
    } else if (py::hasattr(obj, "__dlpack__")) {
      from_dlpack(obj);
    } else {
      raise(PyExc_TypeError,
            "logits must be a 2-D float32 CPU array: a NumPy array, a torch tensor or any object "
            "with the buffer protocol or __dlpack__ (got " +
                std::string(py::str(py::type::of(obj))) + ")");
    }
  }
  Logits(const Logits&) = delete;
  Logits& operator=(const Logits&) = delete;
  ~Logits() {
    if (has_buffer_) PyBuffer_Release(&buffer_);
  }
  const telltale::LogitsView& view() const { return view_; }

 private:
  void from_buffer(const py::handle& obj) {
    if (PyObject_GetBuffer(obj.ptr(), &buffer_, PyBUF_STRIDES | PyBUF_FORMAT) != 0) throw py::error_already_set();
    has_buffer_ = true;
    const std::string format = buffer_.format != nullptr ? buffer_.format : "B";
    const bool is_f32 = buffer_.itemsize == 4 && (format == "f" || format == "<f" || format == "=f" || format == "@f");
    if (!is_f32) raise(PyExc_TypeError, "logits must be float32 (buffer format '" + format + "')");
    if (buffer_.readonly) raise(PyExc_ValueError, "logits must be writable: the hook edits them in place");
    if (buffer_.ndim != 2) {
      raise(PyExc_ValueError, "logits must be 2-D [rows, vocab] (got " + std::to_string(buffer_.ndim) + "-D)");
    }
    set_view(static_cast<char*>(buffer_.buf), buffer_.shape[0], buffer_.shape[1], buffer_.strides[0],
             buffer_.strides[1], 4);
  }

  void from_dlpack(const py::handle& obj) {
    // Ask where the data lives before exporting, so a GPU tensor gets a clear error rather than a device pointer.
    if (py::hasattr(obj, "__dlpack_device__")) {
      const auto dev = obj.attr("__dlpack_device__")().cast<py::tuple>();
      if (dev[0].cast<int32_t>() != kDLCPU) {
        raise(PyExc_ValueError, "logits are not in CPU memory (DLPack device type " +
                                    std::to_string(dev[0].cast<int32_t>()) +
                                    "): the hook reads host memory only; copy the rows to the CPU (or the top-k "
                                    "candidates) first");
      }
    }
    try {
      capsule_ = obj.attr("__dlpack__")();
    } catch (py::error_already_set& e) {
      raise(PyExc_ValueError, std::string("cannot export logits through __dlpack__: ") + e.what());
    }
    // We borrow: the capsule keeps its name, so its own destructor still calls the producer's deleter when we drop
    // it after the call; until then the tensor's memory stays alive.
    const DLTensor* t = nullptr;
    if (PyCapsule_IsValid(capsule_.ptr(), "dltensor")) {
      t = &static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule_.ptr(), "dltensor"))->dl_tensor;
    } else if (PyCapsule_IsValid(capsule_.ptr(), "dltensor_versioned")) {
      auto* v = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule_.ptr(), "dltensor_versioned"));
      if (v->version.major != 1) raise(PyExc_ValueError, "unsupported DLPack major version");
      if ((v->flags & kDLPackFlagReadOnly) != 0) {
        raise(PyExc_ValueError, "logits must be writable: the hook edits them in place");
      }
      t = &v->dl_tensor;
    } else {
      raise(PyExc_ValueError, "__dlpack__ did not return a DLPack capsule");
    }
    if (t->device.device_type != kDLCPU) raise(PyExc_ValueError, "logits are not in CPU memory");
    if (t->dtype.code != kDLFloat || t->dtype.bits != 32 || t->dtype.lanes != 1) {
      raise(PyExc_TypeError, "logits must be float32 (DLPack dtype code " + std::to_string(t->dtype.code) + ", " +
                                 std::to_string(t->dtype.bits) + " bits)");
    }
    if (t->ndim != 2)
      raise(PyExc_ValueError, "logits must be 2-D [rows, vocab] (got " + std::to_string(t->ndim) + "-D)");
    const int64_t rows = t->shape[0];
    const int64_t cols = t->shape[1];
    const int64_t s0 = t->strides != nullptr ? t->strides[0] : cols;
    const int64_t s1 = t->strides != nullptr ? t->strides[1] : 1;
    set_view(static_cast<char*>(t->data) + t->byte_offset, rows, cols, s0 * 4, s1 * 4, 4);
  }

  // Strides in bytes. Size-1 dimensions may carry any stride (NumPy and torch both report arbitrary ones).
  void set_view(char* data, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, int64_t item) {
    if (rows < 0 || cols < 1) raise(PyExc_ValueError, "logits must have at least one column");
    if (cols > 1 && col_stride != item) {
      raise(PyExc_ValueError, "logits rows must be contiguous (element stride " + std::to_string(col_stride) +
                                  " bytes): pass a C-contiguous array, e.g. numpy.ascontiguousarray(x) or "
                                  "x.contiguous(), and use the result");
    }
    if (rows <= 1) row_stride = cols * item;
    if (row_stride < cols * item || row_stride % item != 0) {
      raise(PyExc_ValueError, "logits rows overlap or are misaligned (row stride " + std::to_string(row_stride) +
                                  " bytes): pass a C-contiguous array");
    }
    if (reinterpret_cast<uintptr_t>(data) % alignof(float) != 0) raise(PyExc_ValueError, "logits are misaligned");
    view_.data = reinterpret_cast<float*>(data);
    view_.n_rows = rows;
    view_.n_vocab = cols;
    view_.row_stride = row_stride / item;
  }

  Py_buffer buffer_{};
  bool has_buffer_ = false;
  py::object capsule_;
  telltale::LogitsView view_;
};

// The per-row states of one call, checked against the hook and marked busy for its length.
std::vector<telltale::SeqState*> rows_of(const PyHook& hook, const py::sequence& sequences, int64_t n_rows,
                                         BusyGuard& guard) {
  if (static_cast<int64_t>(py::len(sequences)) != n_rows) {
    raise(PyExc_ValueError, "one sequence (or None) per logits row is required: " + std::to_string(py::len(sequences)) +
                                " sequences for " + std::to_string(n_rows) + " rows");
  }
  std::vector<telltale::SeqState*> rows(static_cast<size_t>(n_rows), nullptr);
  for (size_t r = 0; r < rows.size(); ++r) {
    const py::handle item = sequences[r];
    if (item.is_none()) continue;
    auto& seq = item.cast<PySequence&>();
    if (seq.owner.get() != &hook) raise(PyExc_ValueError, "sequence " + std::to_string(r) + " belongs to another Hook");
    guard.acquire(seq.busy, "a Sequence");
    rows[r] = &seq.state;
  }
  return rows;
}

// The antidistillation adjustment of a bias/choose call (telltale/hook.hpp's Adjustment): values [rows, vocab] as
// anything NumPy reads as float32 (None: no adjustment); kind "add" or "green_aligned".
class PyAdjustment {
 public:
  PyAdjustment(const py::object& values, float lam, const std::string& kind) {
    if (kind != "add" && kind != "green_aligned") {
      raise(PyExc_ValueError, "adjustment_kind must be 'add' or 'green_aligned', not '" + kind + "'");
    }
    adj_.lambda = lam;
    adj_.kind = kind == "add" ? telltale::AdjustmentKind::kAdd : telltale::AdjustmentKind::kGreenAligned;
    if (values.is_none()) return;
    values_ = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(values);
    if (!values_ || values_.ndim() != 2)
      raise(PyExc_ValueError, "adjustment must be a 2-D float32 array [rows, vocab]");
    adj_.values = values_.data();
    adj_.n_rows = values_.shape(0);
    adj_.n_vocab = values_.shape(1);
    adj_.row_stride = values_.shape(1);
  }
  const telltale::Adjustment& get() const { return adj_; }

 private:
  py::array_t<float, py::array::c_style | py::array::forcecast> values_;
  telltale::Adjustment adj_;
};

std::vector<int32_t> tokens_of(const py::handle& obj) {
  const auto arr = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr) raise(PyExc_TypeError, "tokens must be a sequence of integers");
  if (arr.ndim() != 1) raise(PyExc_ValueError, "tokens must be 1-D");
  return std::vector<int32_t>(arr.data(), arr.data() + arr.size());
}

std::string scheme_str(telltale::SchemeKind k) { return telltale::scheme_name(k); }

// ---- the verifier's tokenizer and model-aware tests ----

// A verifier result (nlohmann::json) as the Python objects json.loads makes of the same text the CLI prints.
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

// A copy of a key ring (through its sealed bytes, in secure memory), for an object that outlives the call.
telltale::KeyRing copy_key(const telltale::KeyRing& k) {
  const telltale::SecretBytes sealed = take(k.serialize());
  return take(telltale::KeyRing::parse(sealed.bytes()));
}

// A KeyRing or a sequence of them, in order.
std::vector<telltale::KeyRing> keys_of(const py::handle& obj) {
  std::vector<telltale::KeyRing> out;
  if (py::isinstance<telltale::KeyRing>(obj)) {
    out.push_back(copy_key(obj.cast<const telltale::KeyRing&>()));
    return out;
  }
  if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
    raise(PyExc_TypeError, "keys must be a KeyRing or a sequence of KeyRing");
  for (const py::handle k : obj.cast<py::sequence>()) {
    if (!py::isinstance<telltale::KeyRing>(k))
      raise(PyExc_TypeError, "keys must be a KeyRing or a sequence of KeyRing");
    out.push_back(copy_key(k.cast<const telltale::KeyRing&>()));
  }
  if (out.empty()) raise(PyExc_ValueError, "at least one key is needed");
  return out;
}

struct PyTokenizer {
  explicit PyTokenizer(telltale::input::Tokenizer t) : tok(std::move(t)) {}
  telltale::input::Tokenizer tok;
};

// A model-aware test's tokenizer (optional) and the ids of a call: a str is encoded with the tokenizer (as
// `detect` encodes a text file), anything else read as integer ids.
struct TextInput {
  std::shared_ptr<PyTokenizer> tokenizer;

  std::vector<int32_t> ids(const py::handle& text_or_tokens) const {
    if (!py::isinstance<py::str>(text_or_tokens)) return tokens_of(text_or_tokens);
    if (!tokenizer) raise(PyExc_ValueError, "a str needs a tokenizer (pass tokenizer=, or pass token ids)");
    const std::string text = text_or_tokens.cast<std::string>();
    std::vector<int32_t> out;
    check(tokenizer->tok.encode(text, out));
    return out;
  }
};

// The weigher the command line loads for --model, --weight, --model-temperature and --model-top-p, against the
// vocabulary of `params` (the tokenizer's, which must then agree).
telltale::model::PositionWeigher load_weigher(const std::string& model, const telltale::SchemeParams& params,
                                              const std::string& weight, double temperature, double top_p,
                                              const std::shared_ptr<PyTokenizer>& tokenizer, bool account_layer) {
  check(telltale::validate(params));
  if (tokenizer && static_cast<uint32_t>(tokenizer->tok.vocab_size()) != params.vocab_size) {
    raise(PyExc_ValueError, "the tokenizer's vocabulary (" + std::to_string(tokenizer->tok.vocab_size()) +
                                " ids) does not match params.vocab_size (" + std::to_string(params.vocab_size) + ")");
  }
  const telltale::model::WeightKind kind = take(telltale::model::weight_kind_from_name(weight));
  const telltale::model::WeightOptions options{kind, temperature, top_p};
  return take(telltale::model::scheme_weigher(model, params.vocab_size, options, params, account_layer));
}

struct PyModelAwareDetector {
  PyModelAwareDetector(telltale::model::SequenceDetection d, TextInput in) : det(std::move(d)), input(std::move(in)) {}
  telltale::model::SequenceDetection det;
  TextInput input;
  std::atomic<bool> busy{false};
};

struct PyAttributor {
  PyAttributor(telltale::model::SequenceAttribution a, TextInput in) : attr(std::move(a)), input(std::move(in)) {}
  telltale::model::SequenceAttribution attr;
  TextInput input;
  std::atomic<bool> busy{false};
};

std::string core_library_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&tt_version_number), &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

}  // namespace

PYBIND11_MODULE(_telltale, m) {
  m.doc() = "telltale: keyed watermarks for language-model output (the sampler hook and the per-token detector)";
  m.attr("__version__") = std::to_string(TT_VERSION_MAJOR) + "." + std::to_string(TT_VERSION_MINOR) + "." +
                          std::to_string(TT_VERSION_PATCH);
  m.def("core_library_path", &core_library_path,
        "The path of the libtelltale shared library this module is linked against (for ctypes users).");

  {
    py::tuple bases = py::make_tuple(py::handle(PyExc_OSError), py::handle(PyExc_ValueError));
    g_key_file_error = PyErr_NewExceptionWithDoc(
        "telltale.KeyFileError",
        "Key material or a key file is missing, unreadable, unsafe (group/other permissions) or corrupt.", bases.ptr(),
        nullptr);
    if (g_key_file_error == nullptr) throw py::error_already_set();
    m.attr("KeyFileError") = py::handle(g_key_file_error);
  }

  py::class_<telltale::KeyRing>(m, "KeyRing",
                                "The master secret (libsodium secure memory) and its public key id. Create with "
                                "generate(), load() or from_secret().")
      .def_static(
          "generate", [] { return take(telltale::KeyRing::generate()); },
          "A fresh 32-byte master secret from libsodium's CSPRNG.")
      .def_static(
          "load", [](const std::string& path) { return take(telltale::read_key_file(path)); }, py::arg("path"),
          "Reads a key file. Refuses files readable or writable by group or others (KeyFileError).")
      .def_static(
          "from_secret",
          [](const py::bytes& secret) {
            const std::string_view s = secret;
            return take(telltale::KeyRing::from_secret({reinterpret_cast<const uint8_t*>(s.data()), s.size()}));
          },
          py::arg("secret"), "From 32 known secret bytes (test vectors, escrow). Prefer generate() or load().")
      .def(
          "save", [](const telltale::KeyRing& k, const std::string& path) { check(telltale::write_key_file(k, path)); },
          py::arg("path"), "Writes a key file with mode 0600; never overwrites (OSError if it exists).")
      .def_property_readonly("key_id", &telltale::KeyRing::key_id_hex,
                             "SHA-256 commitment to the secret, as 64 hex digits; safe to publish.")
      .def("__repr__", [](const telltale::KeyRing& k) { return "<telltale.KeyRing key_id=" + k.key_id_hex() + ">"; });

  py::class_<telltale::SchemeParams> params_class(m, "Params",
                                                  "Scheme parameters. Starts from the recommended defaults of `scheme` "
                                                  "and applies the given overrides (the scheme table's fields: gamma, "
                                                  "delta, layers, ...); validated when a Hook or Detector is made.");
  params_class
      .def(py::init([](const std::string& scheme, uint32_t vocab_size, std::optional<uint32_t> context_width,
                       std::optional<bool> self_hash, std::optional<bool> skip_repeated_contexts,
                       std::optional<uint32_t> context_history, const py::kwargs& fields) {
             telltale::SchemeParams p = telltale::default_params(parse_scheme(scheme), vocab_size);
             if (context_width) p.context_width = *context_width;
             if (self_hash) p.self_hash = *self_hash;
             if (skip_repeated_contexts) p.skip_repeated_contexts = *skip_repeated_contexts;
             if (context_history) p.context_history = *context_history;
             // The scheme-specific keywords are the scheme table's fields (gamma, delta, layers, ...).
             for (const auto& [key, value] : fields) {
               const std::string name = py::str(key);
               const telltale::SchemeField* f = telltale::find_scheme_field(name);
               if (f == nullptr) raise(PyExc_TypeError, "Params() got an unexpected keyword argument '" + name + "'");
               if (!value.is_none()) set_field(*f, p, value);
             }
             return p;
           }),
           py::arg("scheme"), py::arg("vocab_size"), py::kw_only(), py::arg("context_width") = py::none(),
           py::arg("self_hash") = py::none(), py::arg("skip_repeated_contexts") = py::none(),
           py::arg("context_history") = py::none())
      .def_property(
          "scheme", [](const telltale::SchemeParams& p) { return scheme_str(p.scheme); },
          [](telltale::SchemeParams& p, const std::string& s) { p.scheme = parse_scheme(s); },
          "'kgw', 'gumbel', 'tournament' or 'fingerprint'")
      .def_readwrite("vocab_size", &telltale::SchemeParams::vocab_size,
                     "The tokenizer's vocabulary size; ids >= vocab_size are never favoured.")
      .def_readwrite("context_width", &telltale::SchemeParams::context_width, "h: tokens seeding a step, 1..16")
      .def_readwrite("self_hash", &telltale::SchemeParams::self_hash,
                     "Seed with the last h-1 tokens and the candidate itself.")
      .def_readwrite("skip_repeated_contexts", &telltale::SchemeParams::skip_repeated_contexts,
                     "Leave a step unwatermarked when its context was already watermarked in this sequence.")
      .def_readwrite("context_history", &telltale::SchemeParams::context_history,
                     "Contexts a sequence remembers for skip_repeated_contexts, 1..2^20.")
      .def_property_readonly(
          "effective_gamma",
          [](const telltale::SchemeParams& p) { return telltale::kgw_layout(p.kgw.gamma).effective_gamma(); },
          "KGW: the green fraction actually used (gamma rounded to the bit layout).")
      .def(
          "validate", [](const telltale::SchemeParams& p) { check(telltale::validate(p)); },
          "Raises ValueError naming the first parameter out of range.")
      .def("describe", &telltale::describe, "The one-line description recorded in reports.")
      .def("__repr__",
           [](const telltale::SchemeParams& p) { return "<telltale.Params " + telltale::describe(p) + ">"; });
  // One property per scheme-table field, under its one name.
  for (const telltale::SchemeField& f : telltale::scheme_fields()) {
    const telltale::SchemeField* field = &f;
    params_class.def_property(
        f.name, py::cpp_function([field](const telltale::SchemeParams& p) { return field_value(*field, p); }),
        py::cpp_function([field](telltale::SchemeParams& p, const py::object& v) { set_field(*field, p, v); }), f.help);
  }

  py::class_<PySequence>(m, "Sequence",
                         "One generating sequence: its context window and repeated-context memory. Made by "
                         "Hook.new_sequence(). State changes only in accept()/reset(); bias/choose may run any "
                         "number of times per step. One writer at a time.")
      .def(
          "accept",
          [](PySequence& s, int32_t token) {
            BusyGuard guard;
            guard.acquire(s.busy, "the Sequence");
            s.state.accept(token);
          },
          py::arg("token"),
          "The token the server emitted, or a prompt token being replayed (prompt tokens count as context).")
      .def(
          "extend",
          [](PySequence& s, const py::handle& tokens) {
            const std::vector<int32_t> ids = tokens_of(tokens);
            BusyGuard guard;
            guard.acquire(s.busy, "the Sequence");
            for (int32_t t : ids) s.state.accept(t);
          },
          py::arg("tokens"), "accept() each token in order (e.g. the prompt).")
      .def(
          "reset",
          [](PySequence& s) {
            BusyGuard guard;
            guard.acquire(s.busy, "the Sequence");
            s.state.reset();
          },
          "Forgets the window, the repeated-context memory and the counters.")
      .def(
          "clone",
          [](PySequence& s) {
            BusyGuard guard;
            guard.acquire(s.busy, "the Sequence");
            return std::make_unique<PySequence>(s.owner, take(s.state.clone()));
          },
          "A deep copy (beam search, forks).")
      .def("__copy__", [](PySequence& s) { return std::make_unique<PySequence>(s.owner, take(s.state.clone())); })
      .def("__deepcopy__",
           [](PySequence& s, const py::dict&) { return std::make_unique<PySequence>(s.owner, take(s.state.clone())); })
      .def_property_readonly(
          "window",
          [](const PySequence& s) {
            const auto w = s.state.window();
            return std::vector<int32_t>(w.begin(), w.end());
          },
          "The last min(h, accepted) tokens, oldest first.")
      .def_property_readonly("account", [](const PySequence& s) { return s.state.account(); })
      .def_property_readonly("accepted", [](const PySequence& s) { return s.state.accepted(); })
      .def_property_readonly("watermarked_steps", [](const PySequence& s) { return s.state.watermarked_steps(); })
      .def_property_readonly("skipped_repeated", [](const PySequence& s) { return s.state.skipped_repeated(); });

  py::class_<PyHook, std::shared_ptr<PyHook>>(
      m, "Hook",
      "One scheme with its parameters and subkeys; immutable, share it across threads. bias() for kgw and "
      "tournament, choose() for every scheme (gumbel needs it).")
      .def(py::init([](const telltale::KeyRing& keys, const telltale::SchemeParams& params) {
             return std::make_shared<PyHook>(PyHook{take(telltale::Hook::create(keys, params))});
           }),
           py::arg("keys"), py::arg("params"))
      .def_property_readonly("params", [](const PyHook& h) { return h.hook.params(); })
      .def_property_readonly("scheme", [](const PyHook& h) { return scheme_str(h.hook.params().scheme); })
      .def(
          "new_sequence",
          [](const std::shared_ptr<PyHook>& h, uint64_t account, uint64_t rng_seed) {
            return std::make_unique<PySequence>(h, take(h->hook.new_sequence(account, rng_seed)));
          },
          py::arg("account") = 0, py::arg("rng_seed") = 0,
          "A new Sequence. account: carried by account-aware schemes. rng_seed: seeds the fallback draws.")
      .def(
          "bias",
          [](const PyHook& h, const py::sequence& sequences, const py::object& logits, uint32_t top_k,
             const py::object& adjustment, float lam, const std::string& kind) {
            const Logits view(logits);
            const PyAdjustment adj(adjustment, lam, kind);
            BusyGuard guard;
            const auto rows = rows_of(h, sequences, view.view().n_rows, guard);
            telltale::Status st;
            if (view.view().n_rows > 0) {
              py::gil_scoped_release nogil;
              st = h.hook.bias(rows, view.view(), telltale::BiasOptions{top_k}, adj.get());
            }
            check(st);
            return logits;
          },
          py::arg("sequences"), py::arg("logits"), py::arg("top_k") = 0, py::arg("adjustment") = py::none(),
          py::arg("lambda_") = 0.0f, py::arg("adjustment_kind") = "add",
          "Edits logits [rows, vocab] (float32, CPU, rows contiguous) in place and returns the same object. "
          "sequences[r] is the Sequence of row r (None: leave the row alone). top_k > 0: the server keeps only "
          "its top_k ids afterwards; only ids that can still be among them are touched. NotImplementedError for "
          "gumbel (use choose). Antidistillation: adjustment [rows, vocab] times lambda_ is added first "
          "(adjustment_kind 'add'), or, 'green_aligned', adjustment is a proxy's probabilities q and id v gets "
          "lambda_ q_v (1[v green] - green mass of q).")
      .def(
          "choose",
          [](const PyHook& h, const py::sequence& sequences, const py::object& logits, const py::object& uniforms,
             bool mask_others, const py::object& adjustment, float lam, const std::string& kind) {
            const Logits view(logits);
            const PyAdjustment adj(adjustment, lam, kind);
            BusyGuard guard;
            const auto rows = rows_of(h, sequences, view.view().n_rows, guard);
            const auto n = static_cast<py::ssize_t>(rows.size());
            py::array_t<float, py::array::c_style | py::array::forcecast> u;
            if (!uniforms.is_none()) {
              u = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(uniforms);
              if (!u || u.ndim() != 1 || u.size() != n) {
                raise(PyExc_ValueError, "uniforms must be one float in [0, 1) per row");
              }
            }
            py::array_t<int32_t> out(n);
            telltale::Status st;
            if (n > 0) {
              const float* up = uniforms.is_none() ? nullptr : u.data();
              int32_t* op = out.mutable_data();
              py::gil_scoped_release nogil;
              st = h.hook.choose(rows, view.view(), up, op, mask_others, adj.get());
            }
            check(st);
            return out;
          },
          py::arg("sequences"), py::arg("logits"), py::arg("uniforms") = py::none(), py::arg("mask_others") = false,
          py::arg("adjustment") = py::none(), py::arg("lambda_") = 0.0f, py::arg("adjustment_kind") = "add",
          "Makes the draw from the server's final logits and returns the chosen ids (int32, -1 for a None row). "
          "uniforms: one value in [0, 1) per row, or None for each sequence's own fallback draws. mask_others: "
          "every other id of the row becomes -inf, for hosts that can only edit logits. KGW biases the row first. "
          "adjustment, lambda_, adjustment_kind: as bias(), added before the draw.");

  py::class_<PyDetector>(m, "Detector",
                         "The detection side of a hook: per-token scores with the same keyed values. Not "
                         "thread-safe: one per thread.")
      .def(py::init([](const telltale::KeyRing& keys, const telltale::SchemeParams& params) {
             return std::make_unique<PyDetector>(take(telltale::Detector::create(keys, params)));
           }),
           py::arg("keys"), py::arg("params"))
      .def_property_readonly("params", [](const PyDetector& d) { return d.det.params(); })
      .def_property_readonly(
          "window_size", [](const PyDetector& d) { return d.det.window_size(); },
          "Tokens of context a token needs: h (left-hash) or h - 1 (self-hash).")
      .def(
          "null_model",
          [](const PyDetector& d) {
            const telltale::NullModel n = d.det.null_model();
            const char* kind = n.kind == telltale::NullKind::kBernoulli     ? "bernoulli"
                               : n.kind == telltale::NullKind::kExponential ? "exponential"
                               : n.kind == telltale::NullKind::kBinomial    ? "binomial"
                                                                            : "weighted_bits";
            py::dict out;
            out["kind"] = kind;
            out["p"] = n.p;
            out["layers"] = n.layers;
            return out;
          },
          "How a score is distributed for text that never saw the key: {'kind', 'p', 'layers'}.")
      .def(
          "score",
          [](PyDetector& d, const py::handle& window, int32_t token) {
            const std::vector<int32_t> w = tokens_of(window);
            if (w.size() != d.det.window_size()) {
              raise(PyExc_ValueError,
                    "window must hold exactly window_size = " + std::to_string(d.det.window_size()) + " tokens");
            }
            BusyGuard guard;
            guard.acquire(d.busy, "the Detector");
            return d.det.score(w, token);
          },
          py::arg("window"), py::arg("token"),
          "The score of `token` after `window`: KGW 1/0 (green), gumbel -ln(1-r), tournament the count of g = 1.")
      .def(
          "score_sequence",
          [](PyDetector& d, const py::handle& tokens, std::optional<size_t> first) {
            const std::vector<int32_t> t = tokens_of(tokens);
            const size_t start = first.value_or(d.det.window_size());
            if (start < d.det.window_size()) raise(PyExc_ValueError, "first must be >= window_size");
            const size_t n = t.size() > start ? t.size() - start : 0;
            py::array_t<double> out(static_cast<py::ssize_t>(n));
            if (n > 0) {
              BusyGuard guard;
              guard.acquire(d.busy, "the Detector");
              double* op = out.mutable_data();
              py::gil_scoped_release nogil;
              // start >= window_size and out has n entries: checked above, so this cannot fail.
              (void)d.det.score_sequence(t, start, {op, n});
            }
            return out;
          },
          py::arg("tokens"), py::arg("first") = py::none(),
          "Scores tokens[i] for every i >= first (default window_size), each with the window taken from tokens.");
  py::class_<PyTokenizer, std::shared_ptr<PyTokenizer>>(
      m, "Tokenizer",
      "The verifier's tokenizer (a SentencePiece .model or a llama.cpp GGUF vocabulary, by file type): text to ids "
      "exactly as `telltale detect` reads a text file.")
      .def(py::init([](const std::string& path) {
             return std::make_shared<PyTokenizer>(take(telltale::input::Tokenizer::load(path)));
           }),
           py::arg("path"))
      .def(
          "encode",
          [](const PyTokenizer& t, const std::string& text) {
            std::vector<int32_t> ids;
            check(t.tok.encode(text, ids));
            py::array_t<int32_t> out(static_cast<py::ssize_t>(ids.size()));
            std::copy(ids.begin(), ids.end(), out.mutable_data());
            return out;
          },
          py::arg("text"), "UTF-8 text to ids (int32), with no BOS or EOS added.")
      .def(
          "decode",
          [](const PyTokenizer& t, const py::handle& tokens) { return take(t.tok.decode(tokens_of(tokens))); },
          py::arg("tokens"), "Ids, each in [0, vocab_size), back to text.")
      .def_property_readonly("vocab_size", [](const PyTokenizer& t) { return t.tok.vocab_size(); })
      .def_property_readonly(
          "sha256", [](const PyTokenizer& t) { return t.tok.sha256_hex(); },
          "SHA-256 of the model file, as reports record it.");

  py::class_<PyModelAwareDetector>(
      m, "ModelAwareDetector",
      "Model-aware detection (`telltale detect --model`, spec/statistics.md section 8): the owner's llama2.c model "
      "weighs each scored position from its next-token distribution alone (never the key), and the weighted score is "
      "tested against its exact null given the weights (or the Chernoff bound where the exact one is too large, said "
      "in each analysis's 'method' and 'exact'). One analysis per key, Holm over them. Not thread-safe: one per "
      "thread.")
      .def(py::init([](const py::object& keys, const telltale::SchemeParams& params, const std::string& model,
                       const std::string& weight, double temperature, double top_p, bool dedup,
                       const std::optional<std::shared_ptr<PyTokenizer>>& tokenizer) {
             const std::shared_ptr<PyTokenizer> tok = tokenizer.value_or(nullptr);
             const std::vector<telltale::KeyRing> rings = keys_of(keys);
             auto weigher = load_weigher(model, params, weight, temperature, top_p, tok, false);
             return std::make_unique<PyModelAwareDetector>(
                 take(telltale::model::SequenceDetection::create(std::move(weigher), rings, params, dedup)),
                 TextInput{tok});
           }),
           py::arg("keys"), py::arg("params"), py::arg("model"), py::kw_only(), py::arg("weight") = "expected-gain",
           py::arg("temperature") = 1.0, py::arg("top_p") = 0.9, py::arg("dedup") = true,
           py::arg("tokenizer") = py::none(),
           "keys: a KeyRing or a sequence of them. params: the scheme (vocab_size the tokenizer's; the model's must "
           "equal it). model: a llama2.c .bin path. weight: 'expected-gain' or 'spike-entropy' (red/green schemes). "
           "temperature (> 0) and top_p (in (0, 1]): the generation's, as `telltale generate` samples. dedup: score "
           "each (context, token) once. tokenizer: a Tokenizer, needed to pass text.")
      .def(
          "detect",
          [](PyModelAwareDetector& d, const py::handle& text_or_tokens, size_t prompt_tokens, double alpha) {
            const std::vector<int32_t> ids = d.input.ids(text_or_tokens);
            BusyGuard guard;
            guard.acquire(d.busy, "the ModelAwareDetector");
            telltale::Result<nlohmann::json> r = nlohmann::json();
            {
              py::gil_scoped_release nogil;
              r = d.det.detect(ids, prompt_tokens, alpha);
            }
            return to_python(take(std::move(r)));
          },
          py::arg("text_or_tokens"), py::kw_only(), py::arg("prompt_tokens") = 0, py::arg("alpha") = 1e-3,
          "Tests one text (str, with the tokenizer) or id sequence on its own, its first prompt_tokens ids a known "
          "prompt. Returns the dict `detect --model --per-doc` prints under 'model_aware' for that document: "
          "p_value, log10_p_value and detected (Holm over the keys, at alpha), analyses (per key: statistic, "
          "expected, total_weight, log10_p_value, log10_p_holm, method, exact), scored_tuples, zero_weight_tuples, "
          "weights, null.")
      .def(
          "weigh",
          [](PyModelAwareDetector& d, const py::handle& text_or_tokens) {
            const std::vector<int32_t> ids = d.input.ids(text_or_tokens);
            BusyGuard guard;
            guard.acquire(d.busy, "the ModelAwareDetector");
            std::vector<uint32_t> w;
            {
              py::gil_scoped_release nogil;
              d.det.weigh(ids, w);
            }
            py::array_t<uint32_t> out(static_cast<py::ssize_t>(w.size()));
            std::copy(w.begin(), w.end(), out.mutable_data());
            return out;
          },
          py::arg("text_or_tokens"),
          "Each id's weight in grid units (weight x grid, rounded up; 0..grid): what detect() weighs position i by, "
          "whatever the key.")
      .def_property_readonly(
          "weights",
          [](const PyModelAwareDetector& d) {
            const auto& w = d.det.weigher();
            return to_python(telltale::model::weights_json(w.options(), w.model_sha256()));
          },
          "The weight choice as reports state it: kind, temperature, top_p, grid, model_sha256.");

  py::class_<PyAttributor>(
      m, "Attributor",
      "Attribution of fingerprint-scheme text to registered accounts (`telltale attribute`, spec/fingerprint.md "
      "section 5): every account tested, Holm over the registry. With model=, the account layer is weighted by the "
      "model (`attribute --model`). Not thread-safe: one per thread.")
      .def(py::init([](const telltale::KeyRing& keys, const telltale::SchemeParams& params,
                       const std::vector<uint32_t>& registry, const std::optional<std::string>& model,
                       const std::optional<std::string>& weight, std::optional<double> temperature,
                       std::optional<double> top_p, const std::optional<std::shared_ptr<PyTokenizer>>& tokenizer) {
             const std::shared_ptr<PyTokenizer> tok = tokenizer.value_or(nullptr);
             std::optional<telltale::model::PositionWeigher> weigher;
             if (model) {
               weigher = load_weigher(*model, params, weight.value_or("expected-gain"), temperature.value_or(1.0),
                                      top_p.value_or(0.9), tok, true);
             } else if (weight || temperature || top_p) {
               raise(PyExc_ValueError, "weight, temperature and top_p need a model");
             }
             auto ids = take(telltale::attrib::AccountRegistry::from_ids(registry));
             return std::make_unique<PyAttributor>(
                 take(telltale::model::SequenceAttribution::create(std::move(weigher), keys, params, std::move(ids))),
                 TextInput{tok});
           }),
           py::arg("keys"), py::arg("params"), py::arg("registry"), py::kw_only(), py::arg("model") = py::none(),
           py::arg("weight") = py::none(), py::arg("temperature") = py::none(), py::arg("top_p") = py::none(),
           py::arg("tokenizer") = py::none(),
           "keys: the KeyRing. params: fingerprint-scheme Params. registry: the issued account ids. model, weight, "
           "temperature, top_p, tokenizer: as ModelAwareDetector (model None: the plain test).")
      .def(
          "attribute",
          [](PyAttributor& a, const py::handle& text_or_tokens, size_t prompt_tokens, double alpha, size_t top) {
            const std::vector<int32_t> ids = a.input.ids(text_or_tokens);
            BusyGuard guard;
            guard.acquire(a.busy, "the Attributor");
            telltale::Result<nlohmann::json> r = nlohmann::json();
            {
              py::gil_scoped_release nogil;
              r = a.attr.attribute(ids, prompt_tokens, alpha, top);
            }
            return to_python(take(std::move(r)));
          },
          py::arg("text_or_tokens"), py::kw_only(), py::arg("prompt_tokens") = 0, py::arg("alpha") = 1e-3,
          py::arg("top") = 3,
          "Tests one text or id sequence against every account. Returns the document's `attribute --per-doc` line "
          "without source, line, index and zero_bit: tokens, prompt_tokens, no_context, duplicate_contexts, "
          "scored_contexts, theta, family, accounts (ranked: account, matches, p_value, p_value_holm, attributed), "
          "attributed (ids); model-aware also weighted, exact and model_aware.weights.");
}
