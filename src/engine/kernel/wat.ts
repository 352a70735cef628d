/**
 * The WebAssembly text of the fused SGD training kernel for one-hidden-layer ensembles, generated
 * for one ensemble shape and activation (shapes and activation parameters become constants, so
 * every address offset is an immediate and no loop tests a runtime bound it does not need).
 *
 * Why hand-written SIMD: tfjs-wasm runs the W1 matmuls at ~25 GFLOP/s but a training step built
 * from its ops spends as long again around them (separate passes for bias, activation, derivative,
 * transposes, readout; a dispatch per op). Here a step is two calls: `forward` (matmul, bias and
 * activation fused in registers, then the readout) and `backward` (readout error through the
 * derivative in place, then the weight update straight into W: the gradient is never stored).
 *
 * The memory it works on is described in layout.ts; the activations' text is in activation-wat.ts.
 * Networks never mix: every column of W, b1 and Hb belongs to one network and every operation is
 * column-wise, so one network's NaN stays in its own columns.
 */

import { kernelLayout, type KernelShape } from './layout.js';
import { activate, derivative, type KernelActivation } from './activation-wat.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The module's text: memory import `env.memory`, exports `forward(rows)` and `backward(rows)`. */
export function trainingKernelWat(shape: KernelShape, act: KernelActivation): string {
  const { S, K, trainReadout } = shape;
  const lay = kernelLayout(shape);
  const { Np, Hp, M, Ms } = lay;
  const rowX = Np * 4,
    rowH = Ms * 4,
    colsEnd = M * 4;
  const acc = (r: number, c: number) => `$a${r}${c}`;
  const accLocals = range(4)
    .flatMap((r) => range(2).map((c) => `(local ${acc(r, c)} v128)`))
    .join(' ');
  const zeroAcc = range(4)
    .flatMap((r) => range(2).map((c) => `(local.set ${acc(r, c)} (v128.const i32x4 0 0 0 0))`))
    .join('\n');

  // x·W for a 4-row × 8-column block: for each k, two loads of W's row, four splats of x. Not
  // unrolled: TurboFan hoists the loads of an unrolled body and spills the accumulators (measured:
  // 24 GFLOP/s unrolled by 4, 40 GFLOP/s not; the 8 accumulators, 2 + 4 operands fit 16 registers).
  const fwdInner = `
          (local.set $w0 (v128.load (local.get $pw)))
          (local.set $w1 (v128.load offset=16 (local.get $pw)))
          ${range(4)
            .map(
              (r) => `(local.set $x (v128.load32_splat offset=${r * rowX} (local.get $px)))
          (local.set ${acc(r, 0)} (f32x4.add (local.get ${acc(r, 0)}) (f32x4.mul (local.get $x) (local.get $w0))))
          (local.set ${acc(r, 1)} (f32x4.add (local.get ${acc(r, 1)}) (f32x4.mul (local.get $x) (local.get $w1))))`,
            )
            .join('\n          ')}`;
  const fwdStore = range(4)
    .flatMap((r) =>
      range(2).map(
        (c) => `
        (local.set $v (f32x4.add (local.get ${acc(r, c)}) (local.get $bias${c})))
        ${activate(act)}
        (v128.store offset=${r * rowH + c * 16} (local.get $ph) (local.get $v))`,
      ),
    )
    .join('');

  // xᵀ·dz for a 4-(input)row × 8-column block of W: for each minibatch row, two loads of dz, four splats of x.
  const bwdInner = `
          (local.set $w0 (v128.load (local.get $pz)))
          (local.set $w1 (v128.load offset=16 (local.get $pz)))
          ${range(4)
            .map(
              (r) => `(local.set $x (v128.load32_splat offset=${r * 4} (local.get $px)))
          (local.set ${acc(r, 0)} (f32x4.add (local.get ${acc(r, 0)}) (f32x4.mul (local.get $x) (local.get $w0))))
          (local.set ${acc(r, 1)} (f32x4.add (local.get ${acc(r, 1)}) (f32x4.mul (local.get $x) (local.get $w1))))`,
            )
            .join('\n          ')}`;
  const bwdStore = range(4)
    .flatMap((r) =>
      range(2).map(
        (c) => `
        (v128.store offset=${r * rowH + c * 16} (local.get $pd) (f32x4.add (v128.load offset=${r * rowH + c * 16} (local.get $pd)) (local.get ${acc(r, c)})))`,
      ),
    )
    .join('');

  const hsum = (e: string) =>
    `(f32.add (f32.add (f32x4.extract_lane 0 ${e}) (f32x4.extract_lane 1 ${e})) (f32.add (f32x4.extract_lane 2 ${e}) (f32x4.extract_lane 3 ${e})))`;

  return `(module
  (import "env" "memory" (memory 1))

  ;; Hb[0:rows] = f(X[0:rows]·W + b1); L[0:rows] = readout(Hb) + b2.
  (func (export "forward") (param $rows i32)
    (local $j i32) (local $i i32) (local $k i32) (local $px i32) (local $pw i32) (local $ph i32) (local $o i32) (local $s i32) (local $h i32) (local $pj i32)
    ${accLocals} (local $w0 v128) (local $w1 v128) (local $x v128) (local $v v128) (local $t v128) (local $u v128) (local $bias0 v128) (local $bias1 v128)
    (local.set $j (i32.const 0))
    (loop $cols
      (local.set $bias0 (v128.load (i32.add (i32.const ${lay.b1}) (local.get $j))))
      (local.set $bias1 (v128.load offset=16 (i32.add (i32.const ${lay.b1}) (local.get $j))))
      (local.set $i (i32.const 0))
      (loop $rowsl
        ${zeroAcc}
        (local.set $px (i32.add (i32.const ${lay.X}) (i32.mul (local.get $i) (i32.const ${rowX}))))
        (local.set $pw (i32.add (i32.const ${lay.W}) (local.get $j)))
        (local.set $k (i32.const 0))
        (loop $ks
          ${fwdInner}
          (local.set $px (i32.add (local.get $px) (i32.const 4)))
          (local.set $pw (i32.add (local.get $pw) (i32.const ${rowH})))
          (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const ${Np}))))
        (local.set $ph (i32.add (i32.const ${lay.Hb}) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (local.get $j))))
        ${fwdStore}
        (br_if $rowsl (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $rows))))
      (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 32))) (i32.const ${colsEnd}))))
    ;; readout: one dot product over Hp per (row, network, output)
    (local.set $i (i32.const 0))
    (loop $ri
      (local.set $s (i32.const 0))
      (loop $rs
        (local.set $o (i32.const 0))
        (loop $ro
          (local.set $ph (i32.add (i32.const ${lay.Hb}) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (i32.mul (local.get $s) (i32.const ${Hp * 4})))))
          (local.set $pj (i32.add (i32.const ${lay.Jt}) (i32.mul (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)) (i32.const ${Hp * 4}))))
          (local.set $v (v128.const i32x4 0 0 0 0))
          (local.set $h (i32.const 0))
          (loop $rh
            (local.set $v (f32x4.add (local.get $v) (f32x4.mul (v128.load (i32.add (local.get $ph) (local.get $h))) (v128.load (i32.add (local.get $pj) (local.get $h))))))
            (br_if $rh (i32.lt_u (local.tee $h (i32.add (local.get $h) (i32.const 16))) (i32.const ${Hp * 4}))))
          (local.set $k (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)))
          (f32.store (i32.add (i32.const ${lay.L}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (local.get $k)) (i32.const 2)))
            (f32.add ${hsum('(local.get $v)')} (f32.load (i32.add (i32.const ${lay.b2}) (i32.shl (local.get $k) (i32.const 2))))))
          (br_if $ro (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 1))) (i32.const ${K}))))
        (br_if $rs (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (i32.const ${S}))))
      (br_if $ri (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows)))))

  ;; From G (the scaled output error, rows beyond the batch zero): the SGD update of every parameter.
  (func (export "backward") (param $rows i32)
    (local $j i32) (local $i i32) (local $k i32) (local $px i32) (local $pz i32) (local $pd i32) (local $ph i32) (local $pj i32) (local $pg i32) (local $o i32) (local $s i32) (local $h i32)
    ${accLocals} (local $w0 v128) (local $w1 v128) (local $x v128) (local $v v128) (local $t v128) (local $u v128) (local $g f32)
    ${
      trainReadout
        ? `;; dJt[s, o, :] = Σ_i G[i, s, o]·Hb[i, s·Hp:] (before Hb is overwritten)
    (local.set $s (i32.const 0))
    (loop $js
      (local.set $o (i32.const 0))
      (loop $jo
        (local.set $pj (i32.add (i32.const ${lay.dJt}) (i32.mul (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)) (i32.const ${Hp * 4}))))
        (local.set $h (i32.const 0))
        (loop $jh
          (local.set $v (v128.const i32x4 0 0 0 0))
          (local.set $i (i32.const 0))
          (loop $ji
            (local.set $v (f32x4.add (local.get $v) (f32x4.mul
              (v128.load32_splat (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o))) (i32.const 2))))
              (v128.load (i32.add (i32.add (i32.const ${lay.Hb}) (i32.mul (local.get $i) (i32.const ${rowH}))) (i32.add (i32.mul (local.get $s) (i32.const ${Hp * 4})) (local.get $h)))))))
            (br_if $ji (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
          (v128.store (i32.add (local.get $pj) (local.get $h)) (local.get $v))
          (br_if $jh (i32.lt_u (local.tee $h (i32.add (local.get $h) (i32.const 16))) (i32.const ${Hp * 4}))))
        (br_if $jo (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 1))) (i32.const ${K}))))
      (br_if $js (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (i32.const ${S}))))`
        : ''
    }
    ;; Hb ← ∂L/∂z = (G·Jt) ⊙ f′, per row and network; the padding tail beyond S·Hp ← 0
    (local.set $i (i32.const 0))
    (loop $di
      (local.set $s (i32.const 0))
      (loop $ds
        (local.set $ph (i32.add (i32.const ${lay.Hb}) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (i32.mul (local.get $s) (i32.const ${Hp * 4})))))
        (local.set $pg (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (i32.mul (local.get $s) (i32.const ${K}))) (i32.const 2))))
        (local.set $pj (i32.add (i32.const ${lay.Jt}) (i32.mul (local.get $s) (i32.const ${K * Hp * 4}))))
        (local.set $h (i32.const 0))
        (loop $dh
          (local.set $u (v128.const i32x4 0 0 0 0))
          ${range(K)
            .map(
              (o) =>
                `(local.set $u (f32x4.add (local.get $u) (f32x4.mul (v128.load32_splat offset=${o * 4} (local.get $pg)) (v128.load offset=${o * Hp * 4} (i32.add (local.get $pj) (local.get $h))))))`,
            )
            .join('\n          ')}
          (local.set $v (v128.load (i32.add (local.get $ph) (local.get $h))))
          (v128.store (i32.add (local.get $ph) (local.get $h)) (f32x4.mul (local.get $u) ${derivative(act)}))
          (br_if $dh (i32.lt_u (local.tee $h (i32.add (local.get $h) (i32.const 16))) (i32.const ${Hp * 4}))))
        (br_if $ds (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (i32.const ${S}))))
      ${
        M > S * Hp
          ? `(local.set $h (i32.const ${S * Hp * 4}))
      (loop $dt
        (v128.store (i32.add (i32.add (i32.const ${lay.Hb}) (i32.mul (local.get $i) (i32.const ${rowH}))) (local.get $h)) (v128.const i32x4 0 0 0 0))
        (br_if $dt (i32.lt_u (local.tee $h (i32.add (local.get $h) (i32.const 16))) (i32.const ${colsEnd}))))`
          : ''
      }
      (br_if $di (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
    ;; W += Xᵀ·Hb in 4 × 8 blocks, and b1 += Σ_i Hb[i, :]
    (local.set $j (i32.const 0))
    (loop $cols
      (local.set $k (i32.const 0))
      (loop $kb
        ${zeroAcc}
        (local.set $px (i32.add (i32.const ${lay.X}) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $pz (i32.add (i32.const ${lay.Hb}) (local.get $j)))
        (local.set $i (i32.const 0))
        (loop $is
          ${bwdInner}
          (local.set $px (i32.add (local.get $px) (i32.const ${rowX})))
          (local.set $pz (i32.add (local.get $pz) (i32.const ${rowH})))
          (br_if $is (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
        (local.set $pd (i32.add (i32.const ${lay.W}) (i32.add (i32.mul (local.get $k) (i32.const ${rowH})) (local.get $j))))
        ${bwdStore}
        (br_if $kb (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (i32.const ${Np}))))
      (local.set $w0 (v128.const i32x4 0 0 0 0))
      (local.set $w1 (v128.const i32x4 0 0 0 0))
      (local.set $pz (i32.add (i32.const ${lay.Hb}) (local.get $j)))
      (local.set $i (i32.const 0))
      (loop $bs
        (local.set $w0 (f32x4.add (local.get $w0) (v128.load (local.get $pz))))
        (local.set $w1 (f32x4.add (local.get $w1) (v128.load offset=16 (local.get $pz))))
        (local.set $pz (i32.add (local.get $pz) (i32.const ${rowH})))
        (br_if $bs (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
      (local.set $pd (i32.add (i32.const ${lay.b1}) (local.get $j)))
      (v128.store (local.get $pd) (f32x4.add (v128.load (local.get $pd)) (local.get $w0)))
      (v128.store offset=16 (local.get $pd) (f32x4.add (v128.load offset=16 (local.get $pd)) (local.get $w1)))
      (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 32))) (i32.const ${colsEnd}))))
    ${
      trainReadout
        ? `;; Jt += dJt
    (local.set $h (i32.const 0))
    (loop $ju
      (v128.store (i32.add (i32.const ${lay.Jt}) (local.get $h)) (f32x4.add (v128.load (i32.add (i32.const ${lay.Jt}) (local.get $h))) (v128.load (i32.add (i32.const ${lay.dJt}) (local.get $h)))))
      (br_if $ju (i32.lt_u (local.tee $h (i32.add (local.get $h) (i32.const 16))) (i32.const ${S * K * Hp * 4}))))`
        : ''
    }
    ;; b2 += Σ_i G[i, :]
    (local.set $k (i32.const 0))
    (loop $bk
      (local.set $g (f32.const 0))
      (local.set $i (i32.const 0))
      (loop $bi
        (local.set $g (f32.add (local.get $g) (f32.load (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (local.get $k)) (i32.const 2))))))
        (br_if $bi (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
      (local.set $pd (i32.add (i32.const ${lay.b2}) (i32.shl (local.get $k) (i32.const 2))))
      (f32.store (local.get $pd) (f32.add (f32.load (local.get $pd)) (local.get $g)))
      (br_if $bk (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const ${S * K})))))
)`;
}
