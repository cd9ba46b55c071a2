// # The Python extension convnd._core
// A thin layer: Spec fields in, strided NumPy arrays in and out, convnd::Error out as
// ValueError/TypeError/MemoryError. Argument conversion (padding forms, layouts, dtype checks,
// allocating outputs) lives in python/convnd/_api.py, where it is easy to read; this file only
// turns arrays into views without copying and runs Plans with the GIL released, so that other
// Python threads run while a convolution computes.
#include <convnd/convnd.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using convnd::dim_t;

namespace {

// NumPy strides are in bytes; convnd's are in elements. The Python layer guarantees native
// byte order and strides that are multiples of the item size (it copies otherwise); this
// check keeps a direct caller of _core from building a view that names misaligned elements.
template <class View, class Ptr>
View view_of(const py::array& a, Ptr data, const char* name) {
  convnd::DType dtype;
  if (a.dtype().kind() == 'f' && a.itemsize() == 4)
    dtype = convnd::DType::f32;
  else if (a.dtype().kind() == 'f' && a.itemsize() == 8)
    dtype = convnd::DType::f64;
  else
    throw convnd::Error(std::string("convnd: argument '") + name +
                            "': dtype must be float32 or float64, got " +
                            std::string(py::str(a.dtype())),
                        convnd::Error::Kind::type);
  if (!a.dtype().attr("isnative").cast<bool>())
    throw convnd::Error(std::string("convnd: argument '") + name +
                            "': byte order must be native "
                            "(convert with .astype(dtype.newbyteorder('=')))",
                        convnd::Error::Kind::type);
  View v;
  v.data = data;
  v.dtype = dtype;
  const auto item = static_cast<dim_t>(a.itemsize());
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    const auto stride_bytes = static_cast<dim_t>(a.strides(i));
    if (stride_bytes % item != 0)
      throw convnd::Error(std::string("convnd: argument '") + name + "', axis " +
                          std::to_string(i) + ": stride of " + std::to_string(stride_bytes) +
                          " bytes is not a multiple of the item size");
    v.shape.push_back(static_cast<dim_t>(a.shape(i)));
    v.strides.push_back(stride_bytes / item);
  }
  return v;
}

convnd::ConstTensorView in_view(const py::array& a, const char* name) {
  return view_of<convnd::ConstTensorView>(a, a.data(), name);
}

convnd::TensorView out_view(py::array a, const char* name) {
  if (!a.writeable())
    throw convnd::Error(std::string("convnd: argument '") + name + "': array is read-only");
  return view_of<convnd::TensorView>(a, a.mutable_data(), name);
}

convnd::Padding padding_from(const py::object& p, const std::string& policy) {
  if (py::isinstance<py::str>(p)) {
    const auto text = p.cast<std::string>();
    convnd::Padding pad = convnd::Padding::parse(text);
    if (pad.kind != convnd::Padding::Kind::same) return pad;
    // 'same:tf' names its policy; the keyword applies to a bare 'same' and must not
    // silently override a policy the string names.
    const convnd::SamePolicy keyword = convnd::parse_same_policy(policy);
    if (text == "same")
      pad.policy = keyword;
    else if (pad.policy != keyword)
      throw convnd::Error("convnd: arguments 'padding' and 'same_policy': '" + text +
                          "' names another policy than same_policy '" + policy + "'");
    return pad;
  }
  return convnd::Padding::lo_hi(p.cast<std::vector<std::pair<dim_t, dim_t>>>());
}

// All Spec fields as keywords: the Python layer always passes every one of them.
convnd::Spec make_spec(dim_t N, dim_t C, dim_t K, dim_t groups, std::vector<dim_t> input,
                       std::vector<dim_t> kernel, std::vector<dim_t> stride,
                       std::vector<dim_t> dilation, const py::object& padding,
                       const std::string& same_policy, const std::string& pad_mode,
                       const std::string& layout, const std::string& dtype, bool bias,
                       bool transposed, std::vector<dim_t> output_padding,
                       std::vector<dim_t> output_size, bool strict) {
  convnd::Spec s;
  s.N = N;
  s.C = C;
  s.K = K;
  s.groups = groups;
  s.input = std::move(input);
  s.kernel = std::move(kernel);
  s.stride = std::move(stride);
  s.dilation = std::move(dilation);
  s.padding = padding_from(padding, same_policy);
  s.pad_mode = convnd::parse_pad_mode(pad_mode);
  s.layout = convnd::parse_layout(layout);
  s.dtype = convnd::parse_dtype(dtype);
  s.bias = bias;
  s.transposed = transposed;
  s.output_padding = std::move(output_padding);
  s.output_size = std::move(output_size);
  s.strict = strict;
  return s;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "convnd C++ core (use the convnd package, not this module directly)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const convnd::Error& e) {
      // MemoryError for an allocation that failed: a caller may catch it and retry smaller,
      // which it could not tell apart from a bad argument if it were a ValueError.
      PyObject* type = PyExc_ValueError;
      if (e.kind() == convnd::Error::Kind::type) type = PyExc_TypeError;
      if (e.kind() == convnd::Error::Kind::memory) type = PyExc_MemoryError;
      PyErr_SetString(type, e.what());
    }
  });

  py::class_<convnd::Spec>(m, "Spec")
      .def(py::init(&make_spec), py::kw_only(), py::arg("N"), py::arg("C"), py::arg("K"),
           py::arg("groups"), py::arg("input"), py::arg("kernel"), py::arg("stride"),
           py::arg("dilation"), py::arg("padding"), py::arg("same_policy"),
           py::arg("pad_mode"), py::arg("layout"), py::arg("dtype"), py::arg("bias"),
           py::arg("transposed"), py::arg("output_padding"), py::arg("output_size"),
           py::arg("strict"))
      .def("__str__", &convnd::Spec::to_string)
      .def("__repr__", [](const convnd::Spec& s) { return "<convnd spec " + s.to_string() + ">"; })
      .def("resolve_padding", [](const convnd::Spec& s) { return convnd::resolve_padding(s); })
      .def("output_extents", [](const convnd::Spec& s) { return convnd::output_extents(s); })
      .def("resolve_output_padding",
           [](const convnd::Spec& s) { return convnd::resolve_output_padding(s); })
      .def("shapes",
           [](const convnd::Spec& s) {
             const convnd::Shapes sh = convnd::shapes(s);
             py::dict d;
             d["x"] = py::tuple(py::cast(sh.x));
             d["w"] = py::tuple(py::cast(sh.w));
             d["y"] = py::tuple(py::cast(sh.y));
             d["bias"] = py::tuple(py::cast(sh.bias));
             return d;
           })
      .def("explain", [](const convnd::Spec& s) { return convnd::explain(s); });

  py::class_<convnd::Plan>(m, "Plan")
      .def(py::init([](const convnd::Spec& spec, const std::string& pass,
                       const std::string& algorithm, int threads,
                       std::optional<std::size_t> workspace_limit, bool constant_weights,
                       const std::string& precision) {
             convnd::PlanOptions o;
             o.algorithm = algorithm;
             o.threads = threads;
             if (workspace_limit) o.workspace_limit = *workspace_limit;
             o.constant_weights = constant_weights;
             o.precision = convnd::parse_precision(precision);
             return convnd::Plan(spec, convnd::parse_pass(pass), o);
           }),
           py::arg("spec"), py::arg("pass_"), py::arg("algorithm") = "",
           py::arg("threads") = 0, py::arg("workspace_limit") = py::none(),
           py::arg("constant_weights") = false, py::arg("precision") = "standard")
      .def_property_readonly("algorithm", &convnd::Plan::algorithm)
      .def_property_readonly("workspace_bytes", &convnd::Plan::workspace_bytes)
      .def_property_readonly("rejections", &convnd::Plan::rejections)
      .def_property_readonly("error_bound", &convnd::Plan::error_bound)
      .def_property_readonly("spec", &convnd::Plan::spec)
      .def("forward",
           [](const convnd::Plan& p, const py::array& x, const py::array& w,
              const std::optional<py::array>& bias, py::array y) {
             const auto xv = in_view(x, "x");
             const auto wv = in_view(w, "w");
             std::optional<convnd::ConstTensorView> bv;
             if (bias) bv = in_view(*bias, "bias");
             const auto yv = out_view(y, "y");
             py::gil_scoped_release nogil;
             p.forward(xv, wv, bv, yv);
           })
      .def("backward_data",
           [](const convnd::Plan& p, const py::array& dy, const py::array& w, py::array dx) {
             const auto dyv = in_view(dy, "grad_out");
             const auto wv = in_view(w, "w");
             const auto dxv = out_view(dx, "grad_input");
             py::gil_scoped_release nogil;
             p.backward_data(dyv, wv, dxv);
           })
      .def("backward_weights",
           [](const convnd::Plan& p, const py::array& x, const py::array& dy, py::array dw,
              const std::optional<py::array>& dbias) {
             const auto xv = in_view(x, "x");
             const auto dyv = in_view(dy, "grad_out");
             const auto dwv = out_view(dw, "grad_weight");
             std::optional<convnd::TensorView> dbv;
             if (dbias) dbv = out_view(*dbias, "grad_bias");
             py::gil_scoped_release nogil;
             p.backward_weights(xv, dyv, dwv, dbv);
           });

  m.def("set_thread_source", [](const std::string& source) {
    if (source == "pool")
      convnd::set_thread_source(convnd::ThreadSource::kPool);
    else if (source == "openmp")
      convnd::set_thread_source(convnd::ThreadSource::kOpenMP);
    else
      throw py::value_error("thread source: expected 'pool' or 'openmp', got '" + source + "'");
  });
  m.def("thread_source", [] {
    return convnd::thread_source() == convnd::ThreadSource::kOpenMP ? "openmp" : "pool";
  });
  m.def("algorithms", &convnd::algorithms);
  m.def("version", &convnd::version);
}
