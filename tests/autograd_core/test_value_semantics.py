"""Value construction, IEEE semantics, comparisons and introspection."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Value


@pytest.mark.parametrize("data", [3, 2.5, True, np.float32(1.5), np.int64(4), np.bool_(False),
                                  np.array(2.0), np.array([7.0])])
def test_construct_from_real_numbers_stores_python_float(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == float(np.asarray(data).reshape(()))


@pytest.mark.parametrize("bad,name", [("1.0", "str"), (1 + 2j, "complex"), ([1.0], "list"),
                                      (None, "NoneType"), (np.ones(3), "ndarray"),
                                      (np.array(["a"]), "ndarray")])
def test_construct_from_anything_else_raises_type_error_naming_type(bad: object, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        Value(bad)


def test_value_of_value_is_refused() -> None:
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))


def test_unsupported_operand_gives_type_error() -> None:
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        [1.0] * Value(2.0)


@pytest.mark.parametrize("expr,expected", [
    (lambda: Value(0.0).log(), -math.inf),
    (lambda: Value(-1.0).log(), math.nan),
    (lambda: Value(1.0) / 0.0, math.inf),
    (lambda: Value(-1.0) / 0.0, -math.inf),
    (lambda: Value(0.0) / 0.0, math.nan),
    (lambda: Value(-8.0) ** (1 / 3), math.nan),
    (lambda: Value(0.0) ** -1.0, math.inf),
    (lambda: Value(10.0) ** 400.0, math.inf),
    (lambda: Value(-10.0) ** 401.0, -math.inf),
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: Value(-1.0).sqrt(), math.nan),
    (lambda: Value(math.inf).sin(), math.nan),
    (lambda: Value(-1000.0).sigmoid(), 0.0),
    (lambda: Value(1000.0).sigmoid(), 1.0),
    (lambda: Value(1e4).tanh(), 1.0),
    (lambda: Value(-1e4).tanh(), -1.0),
    (lambda: Value(1e4).softplus(), 1e4),
    (lambda: Value(-1e4).softplus(), 0.0),
    (lambda: Value(math.nan).relu(), math.nan),
])
def test_ieee_results_as_numpy_never_an_exception(expr, expected: float) -> None:
    got = expr().data
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_ieee_results_agree_with_numpy() -> None:
    with np.errstate(all="ignore"):
        for a in (-8.0, -1.0, 0.0, 0.5, 2.0):
            for b in (-1.0, 0.0, 1 / 3, 2.0, 3.0):
                np.testing.assert_equal((Value(a) ** b).data, np.power(a, b))
                np.testing.assert_equal((Value(a) / b).data, np.divide(a, b))
            np.testing.assert_equal(Value(a).log().data, np.log(a))
            np.testing.assert_equal(Value(a).sqrt().data, np.sqrt(a))


def test_stable_functions_have_finite_gradients_at_extremes() -> None:
    for x0 in (-1e4, 1e4):
        for name in ("sigmoid", "tanh", "softplus"):
            x = Value(x0)
            getattr(x, name)().backward()
            assert math.isfinite(x.grad)
    x = Value(-1e4)
    x.softplus().backward()
    assert x.grad == 0.0


def test_comparisons_compare_data_and_return_bool() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a > b) is False and (a <= 1.0) is True and (b >= 3) is False
    # == is identity (as micrograd's), so Values behave in lists, sets and dicts
    twin = Value(1.0)
    assert (a == a) is True and (a == twin) is False and (a != twin) is True and (a == 1) is False
    assert {a, twin}.__len__() == 2 and [twin, a].index(a) == 1 and twin not in [a]


def test_introspection_is_read_only() -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    z = x * w
    assert z.op.name == "mul" and z.op.symbol == "*" and str(z.op) == "*"
    assert z.parents == (x, w) and z.parents[0] is x
    assert x.parents == () and x.op is None and x.is_leaf and not z.is_leaf
    assert z.local_derivatives() == (-3.0, 2.0)
    assert x.local_derivatives() == ()
    with pytest.raises(AttributeError):
        z.op = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        z.parents = ()  # type: ignore[misc]
    assert x.label == "x" and z.label is None


def test_label_is_none_until_given_and_can_be_set_and_cleared() -> None:
    x = Value(2.0)
    assert x.label is None and (x * 3).label is None
    x.label = "x"
    assert x.label == "x" and repr(x).endswith("label='x')")
    x.label = None
    assert x.label is None and "label" not in repr(x)
    assert Value(1.0, label=7).label == "7"


def test_repr_shows_data_grad_and_label() -> None:
    x = Value(2.0, label="x")
    (x * x).backward()
    assert repr(x) == "Value(data=2, grad=4, label='x')"


def test_an_ops_result_refuses_pickle_and_copy_with_a_reason_and_a_leaf_copies() -> None:
    import copy
    import pickle

    import numpy as np

    from autograd_core import Tensor

    x = Value(2.0, label="x")
    x.grad = 3.0
    for result, op in ((x * 3, "mul"), (Tensor(np.ones(2), requires_grad=True).sum(), "sum")):
        for copier in (pickle.dumps, copy.copy, copy.deepcopy):
            with pytest.raises(TypeError, match=rf"made by an op \({op}\): it carries its graph.*detach"):
                copier(result)
    for clone in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert (clone.data, clone.grad, clone.label, clone.requires_grad) == (2.0, 3.0, "x", True)
        assert clone is not x and clone.is_leaf
    assert copy.deepcopy((x * 3).detach()).data == 6.0


def test_format_spec_formats_the_value_as_a_notebook_prints_a_loss() -> None:
    from autograd_core import Dual

    loss = Value(0.123456, label="loss") * 2
    assert f"{loss:.4f}" == "0.2469" and f"{loss:>8.2f}|" == "    0.25|"
    assert f"{Dual(1.5, 2.0):.1f}" == "1.5"
    assert f"{loss}" == repr(loss)                      # no spec: the repr, as str()


# -- float() and math.* of a Value that requires grad: refused, naming the op ----------------------
def test_math_on_a_value_that_requires_grad_names_the_op_instead() -> None:
    x, w = Value(2.0, label="x"), Value(0.5, label="w")
    with pytest.raises(TypeError, match=r"math\.exp\(w\) turns w, a Value that requires grad, "
                                        r"into a plain Python float.*Use w\.exp\(\)"):
        y = x * math.exp(w)                                # the silent gradient loss
    n = Value(0.3)
    for call, use in [(lambda: math.tanh(n), r"n\.tanh\(\)"), (lambda: math.log(n), r"n\.log\(\)"),
                      (lambda: math.sqrt(n), r"n\.sqrt\(\)"), (lambda: math.pow(n, 3), r"n \*\* 3"),
                      (lambda: math.fabs(n), r"abs\(n\)"),
                      (lambda: math.atan(n), r"no atan op: build it from the ops")]:
        with pytest.raises(TypeError, match=use):
            call()
    with pytest.raises(TypeError, match=r"float\(w\) turns w.*use w\.item\(\) or w\.data"):
        float(w)
    y = x * w.exp()                                        # the op keeps the gradient
    y.backward()
    assert w.grad == pytest.approx(2.0 * math.exp(0.5))


def test_float_of_a_value_without_source_names_it_by_label() -> None:
    w = Value(0.5, label="w")                              # noqa: F841 - read by eval
    with pytest.raises(TypeError, match=r"w\.item\(\)"):
        eval("math.exp(w)")                                # no source line to read


def test_float_works_where_no_gradient_can_be_lost() -> None:
    from autograd_core import no_grad

    w = Value(0.5)
    with no_grad():
        assert float(w) == 0.5 and math.exp(w) == math.exp(0.5)
    assert float(Value(0.5, requires_grad=False)) == 0.5
    assert math.exp(w.detach()) == math.exp(0.5)
    with no_grad():
        c = w * 2                                          # made under no_grad: a constant
    assert float(c) == 1.0


def test_formatting_printing_item_and_comparisons_keep_working() -> None:
    loss = Value(2.0) * Value(3.0)
    assert f"{loss:.4f}" == "6.0000" and "{:.1f}".format(loss) == "6.0"
    assert "%.2f" % loss == "6.00" and "%s" % loss == repr(loss)
    assert str(loss) == repr(loss) == "Value(data=6, grad=0)"
    assert loss.item() == loss.data == 6.0
    assert loss > 5 and loss <= 6.0 and max([loss, Value(1.0)]) is loss
    assert round(loss.item(), 1) == 6.0


def test_micrograd_op_strings_and_operand_sets() -> None:
    from micrograd.engine import Value as MicroValue

    a, b, m = Value(2.0), Value(3.0), MicroValue(2.0)
    for ours, theirs in [(a + b, m + 3), (a * b, m * 3), (a ** 2, m ** 2), (a ** 0.5, m ** 0.5),
                         (a ** -1, m ** -1), (a.relu(), m.relu()), (a, m)]:
        assert ours._op == theirs._op                      # '+', '*', '**2', '**0.5', 'ReLU', ''
    assert (a - b)._op == "-" and (-a)._op == "-" and (a / b)._op == "/"
    assert (a ** b)._op == "**" and (a ** b.detach())._op == "**3"
    assert (a.tanh()._op, a.exp()._op, a.leaky_relu()._op) == ("tanh", "exp", "LeakyReLU")
    assert (a * b)._prev == {a, b} and (a * a)._prev == {a} and a._prev == set()

    from autograd_core import Tensor

    t = Tensor([1.0, 2.0], requires_grad=True)
    assert (t ** 2)._op == "**2" and (t * t)._prev == {t} and t._op == ""
