#!/usr/bin/env python3
"""Reference cases for xent, computed with PyTorch in float64 autograd.

Writes one JSON file per loss in the format of testdata/golden/README.md:

    /usr/bin/python3 tools/refgen/refgen.py --out testdata/refgen
    /usr/bin/python3 tools/refgen/refgen.py --out testdata/golden   # regenerate the golden set
    /usr/bin/python3 tools/refgen/refgen.py --v2 --out testdata/refgen-v2   # asymmetric, Poly-1, sample weights

Needs Debian's python3-torch and python3-torchvision (PyTorch 1.13); the
tests only read the JSON it wrote, never PyTorch. The cases are drawn from
--seed, so a run reproduces the same files on the same PyTorch.

For float32 cases every input (logits, float targets, weights, the upstream
gradient) is rounded to float32 first and the loss is then computed in
float64, so the reference is the exact value of the float32 inputs.

Where xent's defined behaviour differs from PyTorch's (a mean over no
counted target is 0 with a zero gradient; PyTorch gives NaN), the case holds
xent's value and says so in "note".
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

REDUCTIONS = ["mean", "sum", "none", "batchmean"]
EMPTY_NOTE = "every target ignored: PyTorch returns NaN (0/0), xent returns 0 and a zero gradient"


def rounded(t, dtype):
    return t.to(torch.float32).to(torch.float64) if dtype == "float32" else t


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def reduce(per, reduction, n, divisor):
    """per: per-position (or per-element) losses; divisor: the mean's count."""
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    if reduction == "batchmean":
        return per.sum() / n
    return per.sum() / divisor


def per_position(loss, x, target, opts):
    """The loss of each position (each element for the per-element losses)
    and what each contributes to the mean's divisor, with PyTorch's own
    functions where it has the loss and our own implementations of the
    definitions where it has not."""
    C = x.shape[1]
    if loss == "softmax":
        ignore = opts.get("ignore_index", -100)
        w = opts.get("weight")
        per = F.cross_entropy(x, target, weight=w, ignore_index=ignore,
                              label_smoothing=opts.get("label_smoothing", 0.0), reduction="none")
        counted = target != ignore
        wy = torch.ones_like(per) if w is None else w[target.clamp(0, C - 1)]
        if opts.get("poly_epsilon"):
            hot = F.one_hot(target.clamp(0, C - 1), C).movedim(-1, 1).to(torch.float64)
            per = per + poly_term(x, smoothed(hot, opts, C), w, opts["poly_epsilon"]) * counted
        return per, wy * counted
    if loss == "softmax_prob":
        per = F.cross_entropy(x, target, weight=opts.get("weight"),
                              label_smoothing=opts.get("label_smoothing", 0.0), reduction="none")
        if opts.get("poly_epsilon"):
            per = per + poly_term(x, smoothed(target, opts, C), opts.get("weight"), opts["poly_epsilon"])
        return per, torch.ones_like(per)
    if loss == "multilabel_softmax":
        logp = F.log_softmax(x, 1)
        m = target.sum(1)
        per = torch.where(m > 0, -(target * logp).sum(1) / m.clamp_min(1e-300), torch.zeros_like(m))
        return per, (m > 0).to(torch.float64)
    if loss == "sigmoid":
        w, q = opts.get("weight"), opts.get("pos_weight")
        shape = [1, C] + [1] * (x.dim() - 2)  # per class, along axis 1
        per = F.binary_cross_entropy_with_logits(
            x, target, weight=None if w is None else w.reshape(shape),
            pos_weight=None if q is None else q.reshape(shape), reduction="none")
        return per, torch.ones_like(per)
    if loss == "sigmoid_focal":
        per = sigmoid_focal_loss(x, target, alpha=opts["alpha"], gamma=opts["gamma"], reduction="none")
        return per, torch.ones_like(per)
    if loss == "asymmetric":
        per = asymmetric_stable(x, target, opts)
        if opts.get("form") == "repository":
            per = asymmetric_repository(x, target, opts)
        return per, torch.ones_like(per)
    if loss == "softmax_focal":
        ignore = opts.get("ignore_index", -100)
        counted = target != ignore
        y = target.clamp(0, C - 1)
        logp = F.log_softmax(x, 1).gather(1, y.unsqueeze(1)).squeeze(1)
        alpha = opts.get("alpha")
        a = torch.ones_like(logp) if alpha is None else alpha[y]
        per = -a * (1 - logp.exp()) ** opts["gamma"] * logp
        per = torch.where(counted, per, torch.zeros_like(per))
        return per, counted.to(torch.float64)
    raise ValueError(loss)


def smoothed(t, opts, C):
    """The smoothed target distribution (1−ε)t + ε/C."""
    eps = opts.get("label_smoothing", 0.0)
    return (1 - eps) * t + eps / C


def poly_term(x, t, w, eps):
    """Poly-1's ε·Σ_c w_c t_c (1 − p_c) per position (Leng et al. 2022)."""
    v = t if w is None else t * w.reshape([1, -1] + [1] * (x.dim() - 2))
    return eps * (v * (1 - F.softmax(x, 1))).sum(1)


def asl_params(opts):
    return opts.get("gamma_pos", 0.0), opts.get("gamma_neg", 4.0), opts.get("clip", 0.05)


def asl_weight(x, per, opts):
    w = opts.get("weight")
    return per if w is None else per * w.reshape([1, -1] + [1] * (x.dim() - 2))


def asymmetric_repository(x, y, opts):
    """The ASL repository's AsymmetricLoss (Ridnik et al. 2021) for targets
    in {0, 1}, per element, without its eps clamp; its default
    disable_torch_grad_focal_loss is DetachFocalWeight."""
    gp, gn, clip = asl_params(opts)
    xs_pos = torch.sigmoid(x)
    xs_neg = 1 - xs_pos
    if clip > 0:
        xs_neg = (xs_neg + clip).clamp(max=1)
    loss = y * torch.log(xs_pos) + (1 - y) * torch.log(xs_neg)
    if gp > 0 or gn > 0:
        pt = xs_pos * y + xs_neg * (1 - y)
        gamma = gp * y + gn * (1 - y)
        if opts.get("detach_focal_weight"):
            with torch.no_grad():
                w = torch.pow(1 - pt, gamma)
        else:
            w = torch.pow(1 - pt, gamma)
        loss = loss * w
    return asl_weight(x, -loss, opts)


def asymmetric_stable(x, t, opts):
    """The asymmetric loss in log-stable form for any t in [0, 1]:
    log p = −softplus(−x), 1 − p = σ(−x), log(1 − p_m) = log(min(1, σ(−x) + m))
    (−softplus(x) for m = 0), 0^0 = 1."""
    gp, gn, clip = asl_params(opts)
    detach = (lambda f: f.detach()) if opts.get("detach_focal_weight") else (lambda f: f)
    pos = F.softplus(-x)
    if gp != 0:
        pos = detach(torch.sigmoid(-x) ** gp) * pos
    if clip == 0:
        neg, pm = F.softplus(x), torch.sigmoid(x)
    else:
        pm = (torch.sigmoid(x) - clip).clamp(min=0)
        neg = -torch.log((torch.sigmoid(-x) + clip).clamp(max=1))
    if gn != 0:
        neg = detach(torch.where(pm > 0, pm, torch.zeros_like(pm)) ** gn) * neg
    return asl_weight(x, t * pos + (1 - t) * neg, opts)


def make_case(name, loss, dtype, x, target, opts, reduction, rng):
    x = rounded(x.detach(), dtype).clone().requires_grad_(True)
    if target.is_floating_point():
        target = rounded(target, dtype)
    tensor_opts = {k: rounded(v, dtype) if torch.is_tensor(v) else v for k, v in opts.items()}
    per, counts = per_position(loss, x, target, tensor_opts)
    tensor_opts.pop("form", None)
    s = tensor_opts.get("sample_weight")
    if s is not None:  # one per position: a position's losses times s, counted s times
        if per.dim() == x.dim():
            s = s.unsqueeze(1)
        per, counts = per * s, counts * s
    divisor = counts.sum()
    case = {"name": name, "loss": loss, "dtype": dtype, "shape": list(x.shape), "logits": flat(x),
            "target_shape": list(target.shape),
            "targets": [int(v) for v in target.reshape(-1).tolist()] if not target.is_floating_point() else flat(target)}
    out_opts = {"reduction": reduction}
    for k, v in tensor_opts.items():
        out_opts[k] = flat(v) if torch.is_tensor(v) else v
    case["options"] = out_opts
    if reduction == "mean" and float(divisor) == 0:
        case["loss_value"] = 0.0
        case["grad"] = [0.0] * x.numel()
        case["note"] = EMPTY_NOTE
        return case
    value = reduce(per, reduction, x.shape[0], divisor)
    if reduction == "none":
        if rng.random() < 0.5:
            g = rounded(torch.randn(per.shape, dtype=torch.float64, generator=rng.gen), dtype)
            case["grad_output"] = flat(g)
        else:
            g = torch.ones_like(per)
        (per * g).sum().backward()
        case["loss_value"] = flat(per)
    else:
        value.backward()
        case["loss_value"] = float(value)
    case["grad"] = flat(x.grad)
    return case


class Rng:
    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)

    def random(self):
        return float(torch.rand(1, generator=self.gen, dtype=torch.float64))

    def normal(self, shape, scale=3.0):
        return scale * torch.randn(shape, dtype=torch.float64, generator=self.gen)

    def uniform(self, shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, dtype=torch.float64, generator=self.gen)

    def ints(self, shape, hi):
        return torch.randint(0, hi, shape, generator=self.gen)


def targets_for(loss, shape, rng, ignore=None):
    N, C, rest = shape[0], shape[1], list(shape[2:])
    if loss in ("softmax", "softmax_focal"):
        t = rng.ints([N] + rest, C)
        if ignore is not None:
            t = torch.where(rng.uniform(t.shape, 0, 1) < 0.25, torch.full_like(t, ignore), t)
        return t
    if loss in ("sigmoid", "sigmoid_focal"):
        t = (rng.uniform(shape, 0, 1) < 0.4).to(torch.float64)
        soft = rng.uniform(shape, 0, 1)
        return torch.where(rng.uniform(shape, 0, 1) < 0.3, soft, t)
    if loss == "softmax_prob":
        return rng.uniform(shape, 0, 1)
    if loss == "multilabel_softmax":
        t = (rng.uniform(shape, 0, 1) < 0.3).to(torch.float64)
        return t * (1 + (rng.uniform(shape, 0, 1) < 0.2).to(torch.float64))  # some counts of 2
    raise ValueError(loss)


def variants(loss, C, rng):
    """(label, options) for the loss, options as tensors or numbers."""
    w = lambda: rng.uniform([C], 0.1, 1.1)
    if loss == "softmax":
        return [("plain", {}), ("weight", {"weight": w()}), ("ignore", {"ignore_index": -100}),
                ("smooth", {"label_smoothing": 0.1}),
                ("ignore_smooth", {"ignore_index": -100, "label_smoothing": 0.25}),
                ("ignore0_all", {"weight": w(), "ignore_index": 0, "label_smoothing": 0.1})]
    if loss == "softmax_prob":
        return [("plain", {}), ("weight", {"weight": w()}), ("smooth", {"label_smoothing": 0.2}),
                ("all", {"weight": w(), "label_smoothing": 0.3})]
    if loss == "multilabel_softmax":
        return [("plain", {})]
    if loss == "sigmoid":
        return [("plain", {}), ("weight", {"weight": w()}), ("posweight", {"pos_weight": rng.uniform([C], 0.5, 3)}),
                ("all", {"weight": w(), "pos_weight": rng.uniform([C], 0.5, 3)})]
    if loss == "sigmoid_focal":
        return [("a%g_g%g" % (a, g), {"alpha": a, "gamma": g})
                for a, g in [(0.25, 2.0), (-1, 2.0), (0.5, 0.0), (0.75, 0.5), (0.25, 5.0)]]
    if loss == "softmax_focal":
        return [("noalpha_g%g" % g, {"gamma": g, "ignore_index": -100}) for g in (0.0, 0.5, 2.0)] + \
               [("alpha_g%g" % g, {"gamma": g, "alpha": w(), "ignore_index": -100}) for g in (1.5, 3.0)]
    raise ValueError(loss)


SHAPES = [[1, 2], [5, 4], [3, 7, 2], [2, 4, 3, 2], [2, 33]]


def generate(loss, rng):
    cases = []
    for shape in SHAPES:
        if loss in ("sigmoid", "sigmoid_focal") and shape == [1, 2]:
            shape = [1, 1]
        for label, opts in variants(loss, shape[1], rng):
            for reduction in REDUCTIONS:
                x = rng.normal(shape)
                t = targets_for(loss, shape, rng, opts.get("ignore_index"))
                for dtype in ("float64", "float32"):
                    name = "%s_%s_%s_%s_%s" % (loss, label, reduction, "x".join(map(str, shape)), dtype)
                    cases.append(make_case(name, loss, dtype, x, t, opts, reduction, rng))
    # Logits far from zero, where a naive log(softmax) or log(sigmoid) fails.
    for scale in (50.0, 1e4):
        shape = [6, 9]
        x = rng.normal(shape, scale)
        t = targets_for(loss, shape, rng)
        opts = variants(loss, 9, rng)[0][1]
        for dtype in ("float64", "float32"):
            cases.append(make_case("%s_extreme_%g_%s" % (loss, scale, dtype), loss, dtype, x, t, opts, "mean", rng))
    return cases


def linear_case(name, dtype, n, d, c, opts, reduction, rng, bias=True):
    """The fused linear loss: F.linear, optional soft-capping s·tanh(z/s),
    cross_entropy with the options, plus z·lse² per counted row (reduced
    like a count: mean over the counted rows)."""
    h = rounded(rng.normal([n, d], 1.0), dtype).requires_grad_(True)
    w = rounded(rng.normal([c, d], 0.3), dtype).requires_grad_(True)
    b = rounded(rng.normal([c], 0.5), dtype).requires_grad_(True) if bias else None
    ignore = opts.get("ignore_index", -100)
    y = rng.ints([n], c)
    y = torch.where(rng.uniform([n], 0, 1) < 0.2, torch.full_like(y, ignore), y)
    weight = rounded(rng.uniform([c], 0.1, 1.1), dtype) if opts.get("weight") else None
    z = F.linear(h, w, b)
    cap = opts.get("soft_cap", 0.0)
    if cap > 0:
        z = cap * torch.tanh(z / cap)
    per = F.cross_entropy(z, y, weight=weight, ignore_index=ignore,
                          label_smoothing=opts.get("label_smoothing", 0.0), reduction="none")
    counted = y != ignore
    zl = opts.get("z_loss", 0.0) * torch.logsumexp(z, 1) ** 2 * counted
    wy = torch.ones(n, dtype=torch.float64) if weight is None else weight[y.clamp(0, c - 1)]
    wsum, count = (wy * counted).sum(), counted.sum().to(torch.float64)
    if reduction == "mean":
        value = (per.sum() / wsum if wsum > 0 else per.sum() * 0) + (zl.sum() / count if count > 0 else zl.sum() * 0)
    elif reduction == "batchmean":
        value = (per.sum() + zl.sum()) / n
    else:  # sum, and none (whose value is the sum)
        value = per.sum() + zl.sum()
    value.backward()
    case = {"name": name, "dtype": dtype, "n": n, "d": d, "c": c, "h": flat(h), "w": flat(w),
            "bias": flat(b) if bias else None, "targets": [int(v) for v in y.tolist()],
            "options": {"reduction": reduction, "ignore_index": ignore,
                        "label_smoothing": opts.get("label_smoothing", 0.0), "z_loss": opts.get("z_loss", 0.0),
                        "soft_cap": cap, "weight": flat(weight) if weight is not None else None},
            "loss_value": float(value), "losses": flat(per + zl),
            "grad_h": flat(h.grad), "grad_w": flat(w.grad), "grad_bias": flat(b.grad) if bias else None}
    return case


def generate_linear(rng):
    cases = []
    variants = [("plain", {}), ("weight", {"weight": True}), ("smooth", {"label_smoothing": 0.1}),
                ("zloss", {"z_loss": 1e-3}), ("cap", {"soft_cap": 3.0}),
                ("all", {"weight": True, "label_smoothing": 0.2, "z_loss": 1e-2, "soft_cap": 5.0, "ignore_index": 0})]
    for n, d, c in [(1, 1, 2), (7, 5, 11), (33, 16, 70)]:
        for label, opts in variants:
            for reduction in REDUCTIONS:
                for dtype in ("float64", "float32"):
                    name = "linear_%s_%s_%dx%dx%d_%s" % (label, reduction, n, d, c, dtype)
                    cases.append(linear_case(name, dtype, n, d, c, opts, reduction, rng, bias=(label != "plain")))
    return cases


def targets_v2(loss, shape, rng, hard=False):
    if loss == "asymmetric":
        t = (rng.uniform(shape, 0, 1) < 0.3).to(torch.float64)
        if hard:
            return t
        return torch.where(rng.uniform(shape, 0, 1) < 0.3, rng.uniform(shape, 0, 1), t)
    return targets_for(loss, shape, rng, -100 if loss in ("softmax", "softmax_focal") else None)


def generate_v2(rng):
    """Cases for the asymmetric loss (both forms), Poly-1 and sample weights,
    by file name."""
    files = {"asymmetric": [], "poly": [], "sample_weight": []}
    asl = [(gp, gn, m) for gp, gn, m in [(0.0, 4.0, 0.05), (1.0, 4.0, 0.05), (0.0, 0.0, 0.0), (0.5, 2.5, 0.2), (2.0, 1.0, 0.0)]]
    for shape in ([3, 5], [2, 4, 3], [2, 3, 2, 2]):
        C = shape[1]
        for gp, gn, m in asl:
            for detach in (False, True):
                for form, hard in (("repository", True), ("stable", False)):
                    opts = {"gamma_pos": gp, "gamma_neg": gn, "clip": m, "form": form}
                    if detach:
                        opts["detach_focal_weight"] = True
                    if form == "stable" and not detach:
                        opts["weight"] = rng.uniform([C], 0.1, 1.1)
                    for reduction in REDUCTIONS:
                        x, t = rng.normal(shape), targets_v2("asymmetric", shape, rng, hard)
                        for dtype in ("float64", "float32"):
                            name = "ours_asl_%s_gp%g_gn%g_m%g%s_%s_%s_%s" % (form, gp, gn, m, "_detach" if detach else "",
                                                                           reduction, "x".join(map(str, shape)), dtype)
                            files["asymmetric"].append(make_case(name, "asymmetric", dtype, x, t, opts, reduction, rng))
        for loss, variants_ in (("softmax", [{}, {"weight": True}, {"label_smoothing": 0.2}, {"weight": True, "label_smoothing": 0.1}]),
                                ("softmax_prob", [{}, {"weight": True, "label_smoothing": 0.3}])):
            for eps in (-1.0, 0.5, 2.0):
                for v in variants_:
                    opts = {"poly_epsilon": eps}
                    if v.get("weight"):
                        opts["weight"] = rng.uniform([C], 0.1, 1.1)
                    if "label_smoothing" in v:
                        opts["label_smoothing"] = v["label_smoothing"]
                    if loss == "softmax":
                        opts["ignore_index"] = -100
                    for reduction in REDUCTIONS:
                        x, t = rng.normal(shape), targets_v2(loss, shape, rng)
                        label = "_".join(k for k in ("weight", "label_smoothing") if k in opts) or "plain"
                        for dtype in ("float64", "float32"):
                            name = "ours_poly_%s_e%g_%s_%s_%s_%s" % (loss, eps, label, reduction, "x".join(map(str, shape)), dtype)
                            files["poly"].append(make_case(name, loss, dtype, x, t, opts, reduction, rng))
        positions = [shape[0]] + shape[2:]
        for loss in ("softmax", "softmax_prob", "multilabel_softmax", "sigmoid", "sigmoid_focal", "softmax_focal", "asymmetric"):
            opts = {"sample_weight": rng.uniform(positions, 0, 2) * (rng.uniform(positions, 0, 1) < 0.8)}
            if loss == "sigmoid_focal":
                opts.update(alpha=0.25, gamma=2.0)
            if loss == "softmax_focal":
                opts.update(gamma=2.0, ignore_index=-100)
            if loss in ("softmax", "sigmoid", "asymmetric"):
                opts["weight"] = rng.uniform([C], 0.1, 1.1)
            for reduction in REDUCTIONS:
                x, t = rng.normal(shape), targets_v2(loss, shape, rng)
                for dtype in ("float64", "float32"):
                    name = "ours_sw_%s_%s_%s_%s" % (loss, reduction, "x".join(map(str, shape)), dtype)
                    files["sample_weight"].append(make_case(name, loss, dtype, x, t, opts, reduction, rng))
    for scale in (50.0, 1e4):  # logits far from zero
        shape = [6, 9]
        x = rng.normal(shape, scale)
        for loss, opts in (("asymmetric", {"form": "stable"}), ("asymmetric", {"gamma_pos": 1.0, "clip": 0.0, "form": "stable"}),
                           ("softmax", {"poly_epsilon": 1.0}), ("softmax_prob", {"poly_epsilon": -0.5})):
            t = targets_v2(loss, shape, rng)
            for dtype in ("float64", "float32"):
                name = "ours_extreme_%g_%s_%s_%s" % (scale, loss, "_".join("%s%s" % kv for kv in opts.items() if kv[0] != "form"), dtype)
                files["asymmetric" if loss == "asymmetric" else "poly"].append(make_case(name, loss, dtype, x, t, opts, "mean", rng))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the JSON files")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--linear", action="store_true", help="write linear.json, the fused linear loss's cases, instead")
    ap.add_argument("--v2", action="store_true", help="write the asymmetric loss's, Poly-1's and sample weights' cases instead")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    if args.v2:
        for name, cases in generate_v2(Rng(args.seed + 200)).items():
            path = os.path.join(args.out, name + ".json")
            with open(path, "w") as f:
                json.dump(cases, f, separators=(",", ":"))
                f.write("\n")
            print("%s: %d cases" % (path, len(cases)))
        return
    if args.linear:
        path = os.path.join(args.out, "linear.json")
        cases = generate_linear(Rng(args.seed + 100))
        with open(path, "w") as f:
            json.dump(cases, f, separators=(",", ":"))
            f.write("\n")
        print("%s: %d cases" % (path, len(cases)))
        return
    for i, loss in enumerate(["softmax", "softmax_prob", "multilabel_softmax", "sigmoid", "sigmoid_focal", "softmax_focal"]):
        cases = generate(loss, Rng(args.seed + i))
        path = os.path.join(args.out, loss + ".json")
        with open(path, "w") as f:
            json.dump(cases, f, separators=(",", ":"))
            f.write("\n")
        print("%s: %d cases" % (path, len(cases)))


if __name__ == "__main__":
    main()
