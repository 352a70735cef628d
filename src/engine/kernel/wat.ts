/**
 * The WebAssembly text of the fused training kernel for ensembles of MLPs (hidden layers of equal
 * width, SGD or Adam, frozen or trained readout), generated for one ensemble shape and activation
 * (shapes and activation parameters become constants, so every address offset is an immediate and
 * no loop tests a runtime bound it does not need).
 *
 * Why hand-written SIMD: tfjs-wasm runs the W1 matmuls at ~25 GFLOP/s but a training step built
 * from its ops spends as long again around them (separate passes for bias, activation, derivative,
 * transposes, readout; a dispatch per op). Here a step is two calls: `forward` (each layer's
 * matmul, bias and activation fused in registers, then the readout) and `backward` (the readout
 * error through the derivative in place, then layer by layer the weight update and δ·Wᵀ through
 * the derivative). The gradient is never stored: each 4 × 8 block of it is applied where it is
 * summed, added for SGD, through Adam's moments for Adam.
 *
 * The memory it works on is described in layout.ts; the activations' text is in activation-wat.ts.
 * Networks never mix: every column of W, Wd, the biases and Hb belongs to one network, a deeper
 * layer's 8-column block reads only its own network's inputs, and every other operation is
 * column- or element-wise, so one network's NaN stays in its own columns.
 */

import { kernelLayout, type KernelShape } from './layout.js';
import { activate, derivative, storesDerivative, type KernelActivation } from './activation-wat.js';
import { ADAM } from '../../config.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const f32 = (v: number) => Math.fround(v).toPrecision(9);
const splat = (v: number) => `(f32x4.splat (f32.const ${f32(v)}))`;

const acc = (r: number, c: number) => `$a${r}${c}`;
const ACC_LOCALS = range(4)
  .flatMap((r) => range(2).map((c) => `(local ${acc(r, c)} v128)`))
  .join(' ');
const ZERO_ACC = range(4)
  .flatMap((r) => range(2).map((c) => `(local.set ${acc(r, c)} (v128.const i32x4 0 0 0 0))`))
  .join('\n');
const SCRATCH =
  '(local $w0 v128) (local $w1 v128) (local $x v128) (local $v v128) (local $t v128) (local $u v128) (local $e v128) (local $r v128) (local $n v128) (local $d v128)';

/** A loop `$name` of `body` over local `i` from `from` while i < `end`, stepping by `step`. */
const loop = (name: string, i: string, from: number, step: number, end: string, body: string) => `
    (local.set ${i} (i32.const ${from}))
    (loop ${name}
      ${body}
      (br_if ${name} (i32.lt_u (local.tee ${i} (i32.add (local.get ${i}) (i32.const ${step}))) ${end})))`;

/**
 * The module's text: memory import `env.memory`, exports `forward(rows)` and `backward(rows, a, c2)`
 * (Adam's step size a = lr/(1 − β1ᵗ) and bias correction c2 = 1 − β2ᵗ; ignored by SGD).
 */
export function trainingKernelWat(shape: KernelShape, act: KernelActivation): string {
  const { S, K, depth, trainReadout } = shape;
  const adamOpt = shape.optimizer === 'adam';
  const lay = kernelLayout(shape);
  const { Np, Hp, M, Ms } = lay;
  const rowX = Np * 4,
    rowH = Ms * 4,
    colsEnd = M * 4,
    netBytes = Hp * 4;
  const stored = storesDerivative(act);
  if (stored !== shape.storedDerivative)
    throw new Error('kernel shape: storedDerivative disagrees with the activation');
  const fOff = lay.fOffset ?? 0;
  const top = lay.Hb[depth - 1];
  /** $ao ← the byte offset of the network whose columns the block at $j is in (a deeper layer's inputs). */
  const NETWORK_OFFSET = `(local.set $ao (i32.mul (i32.div_u (local.get $j) (i32.const ${netBytes})) (i32.const ${netBytes})))`;
  const { beta1, beta2, eps } = ADAM;
  /**
   * Statements applying the gradient vector `g` to the parameter vector at `at` + `off`: SGD adds
   * it (G carries −lr); Adam (PyTorch's defaults, the tfjs engine's arithmetic) updates the moments
   * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g² (at m + that address, v + that address) and
   * θ ← θ − (a·m)/(√(v/c2) + ε), with $a and $c2 splatted from the globals backward sets.
   */
  const apply = (at: string, off: number, g: string) =>
    !adamOpt
      ? `(v128.store offset=${off} ${at} (f32x4.add (v128.load offset=${off} ${at}) ${g}))`
      : `(local.set $g ${g})
        (local.set $m (f32x4.add (f32x4.mul (v128.load offset=${lay.m! + off} ${at}) ${splat(beta1)}) (f32x4.mul (local.get $g) ${splat(1 - beta1)})))
        (local.set $v2 (f32x4.add (f32x4.mul (v128.load offset=${lay.v! + off} ${at}) ${splat(beta2)}) (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) ${splat(1 - beta2)})))
        (v128.store offset=${lay.m! + off} ${at} (local.get $m))
        (v128.store offset=${lay.v! + off} ${at} (local.get $v2))
        (v128.store offset=${off} ${at} (f32x4.sub (v128.load offset=${off} ${at})
          (f32x4.div (f32x4.mul (local.get $m) (local.get $sa)) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $v2) (local.get $sc2))) ${splat(eps)}))))`;
  const ADAM_LOCALS = adamOpt
    ? '(local $g v128) (local $m v128) (local $v2 v128) (local $sa v128) (local $sc2 v128)'
    : '';
  const ADAM_SPLATS = adamOpt
    ? '(local.set $sa (f32x4.splat (global.get $a))) (local.set $sc2 (f32x4.splat (global.get $c2)))'
    : '';

  /**
   * C = epilogue(A·B) in 4-row × 8-column blocks: for each k, two loads of B's row, four splats of
   * A. A's rows are `aRow` bytes apart; with `perNetwork`, the k-loop of a column block runs over
   * its own network's Hp columns of A (a deeper layer), else over kCount columns from A's start.
   * Not unrolled: TurboFan hoists the loads of an unrolled body and spills the accumulators
   * (measured: 24 GFLOP/s unrolled by 4, 40 GFLOP/s not; 8 accumulators, 2 + 4 operands fit 16 registers).
   */
  const product = (o: {
    name: string;
    aRow: number;
    perNetwork: boolean;
    kCount: number;
    prologue: string;
    epilogue: (r: number, c: number) => string;
  }) => {
    const inner = `
          (local.set $w0 (v128.load (local.get $pw)))
          (local.set $w1 (v128.load offset=16 (local.get $pw)))
          ${range(4)
            .map(
              (r) => `(local.set $x (v128.load32_splat offset=${r * o.aRow} (local.get $px)))
          (local.set ${acc(r, 0)} (f32x4.add (local.get ${acc(r, 0)}) (f32x4.mul (local.get $x) (local.get $w0))))
          (local.set ${acc(r, 1)} (f32x4.add (local.get ${acc(r, 1)}) (f32x4.mul (local.get $x) (local.get $w1))))`,
            )
            .join('\n          ')}`;
    const ao = o.perNetwork ? NETWORK_OFFSET : '';
    return `
  (func ${o.name} (param $rows i32) (param $pa i32) (param $pb i32) (param $pc i32) (param $pbias i32)
    (local $j i32) (local $i i32) (local $k i32) (local $px i32) (local $pw i32) (local $ph i32) (local $ao i32)
    ${ACC_LOCALS} ${SCRATCH} (local $bias0 v128) (local $bias1 v128) (local $mask0 v128) (local $mask1 v128)
    ${loop(
      '$cols',
      '$j',
      0,
      32,
      `(i32.const ${colsEnd})`,
      `${ao}
      ${o.prologue}
      ${loop(
        '$rowsl',
        '$i',
        0,
        4,
        '(local.get $rows)',
        `${ZERO_ACC}
        (local.set $px (i32.add (i32.add (local.get $pa) (local.get $ao)) (i32.mul (local.get $i) (i32.const ${o.aRow}))))
        (local.set $pw (i32.add (local.get $pb) (local.get $j)))
        ${loop(
          '$ks',
          '$k',
          0,
          1,
          `(i32.const ${o.kCount})`,
          `${inner}
          (local.set $px (i32.add (local.get $px) (i32.const 4)))
          (local.set $pw (i32.add (local.get $pw) (i32.const ${rowH})))`,
        )}
        (local.set $ph (i32.add (local.get $pc) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (local.get $j))))
        ${range(4)
          .flatMap((r) => range(2).map((c) => o.epilogue(r, c)))
          .join('')}`,
      )}`,
    )})`;
  };

  const maskPrologue =
    lay.mask === null
      ? ''
      : `(local.set $mask0 (v128.load (i32.add (i32.const ${lay.mask}) (local.get $j))))
      (local.set $mask1 (v128.load offset=16 (i32.add (i32.const ${lay.mask}) (local.get $j))))`;
  const masked = (e: string, c: number) => (lay.mask === null ? e : `(v128.and ${e} (local.get $mask${c}))`);
  /** A layer's forward pass: activity f(A·W + b) into C, and f′ into F when stored. */
  const layerForward = (name: string, aRow: number, perNetwork: boolean, kCount: number) =>
    product({
      name,
      aRow,
      perNetwork,
      kCount,
      prologue: `(local.set $bias0 (v128.load (i32.add (local.get $pbias) (local.get $j))))
      (local.set $bias1 (v128.load offset=16 (i32.add (local.get $pbias) (local.get $j))))
      ${maskPrologue}`,
      epilogue: (r, c) => `
        (local.set $v (f32x4.add (local.get ${acc(r, c)}) (local.get $bias${c})))
        ${activate(act)}
        (v128.store offset=${r * rowH + c * 16} (local.get $ph) ${masked('(local.get $v)', c)})${
          stored
            ? `\n        (v128.store offset=${fOff + r * rowH + c * 16} (local.get $ph) ${masked('(local.get $d)', c)})`
            : ''
        }`,
    });
  /** f′ at C's (r, c) vector: stored, or from the activity there (read into $v). */
  const fPrime = (r: number, c: number) =>
    stored
      ? `(v128.load offset=${fOff + r * rowH + c * 16} (local.get $ph))`
      : `(block (result v128) (local.set $v (v128.load offset=${r * rowH + c * 16} (local.get $ph))) ${derivative(act)})`;
  /** δ of the layer below: C ← (A·B) ⊙ f′(C), A = δ of this layer, B = its Wᵀ (pbias unused). */
  const deltaBelow = product({
    name: '$deltaBelow',
    aRow: rowH,
    perNetwork: true,
    kCount: Hp,
    prologue: '',
    epilogue: (r, c) => `
        (v128.store offset=${r * rowH + c * 16} (local.get $ph) (f32x4.mul (local.get ${acc(r, c)}) ${fPrime(r, c)}))`,
  });

  /**
   * D ← apply(Aᵀ·Z) in 4-(input)row × 8-column blocks (for each row of the minibatch: two loads of
   * Z, four splats of A), then bias ← apply(Σ_rows Z).
   */
  const update = (name: string, aRow: number, perNetwork: boolean, kCount: number) => {
    const inner = `
          (local.set $w0 (v128.load (local.get $pz)))
          (local.set $w1 (v128.load offset=16 (local.get $pz)))
          ${range(4)
            .map(
              (r) => `(local.set $x (v128.load32_splat offset=${r * 4} (local.get $px)))
          (local.set ${acc(r, 0)} (f32x4.add (local.get ${acc(r, 0)}) (f32x4.mul (local.get $x) (local.get $w0))))
          (local.set ${acc(r, 1)} (f32x4.add (local.get ${acc(r, 1)}) (f32x4.mul (local.get $x) (local.get $w1))))`,
            )
            .join('\n          ')}`;
    const ao = perNetwork ? NETWORK_OFFSET : '';
    return `
  (func ${name} (param $rows i32) (param $pa i32) (param $pzb i32) (param $pdb i32) (param $pbias i32)
    (local $j i32) (local $i i32) (local $k i32) (local $px i32) (local $pz i32) (local $pd i32) (local $ao i32)
    ${ACC_LOCALS} ${SCRATCH} ${ADAM_LOCALS}
    ${ADAM_SPLATS}
    ${loop(
      '$cols',
      '$j',
      0,
      32,
      `(i32.const ${colsEnd})`,
      `${ao}
      ${loop(
        '$kb',
        '$k',
        0,
        4,
        `(i32.const ${kCount})`,
        `${ZERO_ACC}
        (local.set $px (i32.add (i32.add (local.get $pa) (local.get $ao)) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $pz (i32.add (local.get $pzb) (local.get $j)))
        ${loop(
          '$is',
          '$i',
          0,
          1,
          '(local.get $rows)',
          `${inner}
          (local.set $px (i32.add (local.get $px) (i32.const ${aRow})))
          (local.set $pz (i32.add (local.get $pz) (i32.const ${rowH})))`,
        )}
        (local.set $pd (i32.add (local.get $pdb) (i32.add (i32.mul (local.get $k) (i32.const ${rowH})) (local.get $j))))
        ${range(4)
          .flatMap((r) => range(2).map((c) => apply('(local.get $pd)', r * rowH + c * 16, `(local.get ${acc(r, c)})`)))
          .join('\n        ')}`,
      )}
      (local.set $w0 (v128.const i32x4 0 0 0 0))
      (local.set $w1 (v128.const i32x4 0 0 0 0))
      (local.set $pz (i32.add (local.get $pzb) (local.get $j)))
      ${loop(
        '$bs',
        '$i',
        0,
        1,
        '(local.get $rows)',
        `(local.set $w0 (f32x4.add (local.get $w0) (v128.load (local.get $pz))))
        (local.set $w1 (f32x4.add (local.get $w1) (v128.load offset=16 (local.get $pz))))
        (local.set $pz (i32.add (local.get $pz) (i32.const ${rowH})))`,
      )}
      (local.set $pd (i32.add (local.get $pbias) (local.get $j)))
      ${apply('(local.get $pd)', 0, '(local.get $w0)')}
      ${apply('(local.get $pd)', 16, '(local.get $w1)')}`,
    )})`;
  };

  /** The bytes of f32 lanes (a from the first operand 0–3, the second 4–7) for i8x16.shuffle. */
  const lanes = (...l: number[]) => l.flatMap((k) => [0, 1, 2, 3].map((b) => 4 * k + b)).join(' ');
  /**
   * WT ← W transposed within each network's Hp × Hp block, in 4 × 4 blocks: four row loads, the
   * 4 × 4 transpose in eight shuffles, four row stores.
   */
  const transpose = `
  (func $transpose (param $pw i32) (param $pt i32)
    (local $s i32) (local $i i32) (local $j i32) (local $src i32) (local $dst i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ${loop(
      '$ts',
      '$s',
      0,
      1,
      `(i32.const ${S})`,
      loop(
        '$ti',
        '$i',
        0,
        4,
        `(i32.const ${Hp})`,
        loop(
          '$tj',
          '$j',
          0,
          4,
          `(i32.const ${Hp})`,
          `(local.set $src (i32.add (local.get $pw) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (i32.shl (i32.add (i32.mul (local.get $s) (i32.const ${Hp})) (local.get $j)) (i32.const 2)))))
          (local.set $dst (i32.add (local.get $pt) (i32.add (i32.mul (local.get $j) (i32.const ${rowH})) (i32.shl (i32.add (i32.mul (local.get $s) (i32.const ${Hp})) (local.get $i)) (i32.const 2)))))
          ${range(4)
            .map((r) => `(local.set $v${r} (v128.load offset=${r * rowH} (local.get $src)))`)
            .join('\n          ')}
          (local.set $t0 (i8x16.shuffle ${lanes(0, 4, 1, 5)} (local.get $v0) (local.get $v1)))
          (local.set $t1 (i8x16.shuffle ${lanes(2, 6, 3, 7)} (local.get $v0) (local.get $v1)))
          (local.set $t2 (i8x16.shuffle ${lanes(0, 4, 1, 5)} (local.get $v2) (local.get $v3)))
          (local.set $t3 (i8x16.shuffle ${lanes(2, 6, 3, 7)} (local.get $v2) (local.get $v3)))
          (v128.store (local.get $dst) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $t0) (local.get $t2)))
          (v128.store offset=${rowH} (local.get $dst) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $t0) (local.get $t2)))
          (v128.store offset=${2 * rowH} (local.get $dst) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $t1) (local.get $t3)))
          (v128.store offset=${3 * rowH} (local.get $dst) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $t1) (local.get $t3)))`,
        ),
      ),
    )})`;

  const hsum = (e: string) =>
    `(f32.add (f32.add (f32x4.extract_lane 0 ${e}) (f32x4.extract_lane 1 ${e})) (f32.add (f32x4.extract_lane 2 ${e}) (f32x4.extract_lane 3 ${e})))`;

  const deepForward = range(depth - 1)
    .map(
      (l) =>
        `(call $layerDeep (local.get $rows) (i32.const ${lay.Hb[l]}) (i32.const ${lay.deep[l].W}) (i32.const ${lay.Hb[l + 1]}) (i32.const ${lay.deep[l].b}))`,
    )
    .join('\n    ');
  const deepBackward = range(depth - 1)
    .reverse()
    .map(
      (
        l,
      ) => `(call $updateDeep (local.get $rows) (i32.const ${lay.Hb[l]}) (i32.const ${lay.Hb[l + 1]}) (i32.const ${lay.deep[l].W}) (i32.const ${lay.deep[l].b}))
    (call $deltaBelow (local.get $rows) (i32.const ${lay.Hb[l + 1]}) (i32.const ${lay.deep[l].WT}) (i32.const ${lay.Hb[l]}) (i32.const 0))
    (call $transpose (i32.const ${lay.deep[l].W}) (i32.const ${lay.deep[l].WT}))`,
    )
    .join('\n    ');

  return `(module
  (import "env" "memory" (memory 1))
  (global $a (mut f32) (f32.const 0))
  (global $c2 (mut f32) (f32.const 1))
  ${layerForward('$layer1', rowX, false, Np)}
  ${depth > 1 ? layerForward('$layerDeep', rowH, true, Hp) : ''}
  ${depth > 1 ? deltaBelow : ''}
  ${update('$update1', rowX, false, Np)}
  ${depth > 1 ? update('$updateDeep', rowH, true, Hp) : ''}
  ${depth > 1 ? transpose : ''}

  ;; Hb[0] = f(X·W + b1), Hb[l] = f(Hb[l−1]·Wd_l + bd_l); L = readout(Hb[depth − 1]) + b2.
  (func (export "forward") (param $rows i32)
    (local $i i32) (local $k i32) (local $o i32) (local $s i32) (local $h i32) (local $ph i32) (local $pj i32) (local $v v128)
    (call $layer1 (local.get $rows) (i32.const ${lay.X}) (i32.const ${lay.W}) (i32.const ${lay.Hb[0]}) (i32.const ${lay.b1}))
    ${deepForward}
    ;; readout: one dot product over Hp per (row, network, output)
    ${loop(
      '$ri',
      '$i',
      0,
      1,
      '(local.get $rows)',
      loop(
        '$rs',
        '$s',
        0,
        1,
        `(i32.const ${S})`,
        loop(
          '$ro',
          '$o',
          0,
          1,
          `(i32.const ${K})`,
          `(local.set $ph (i32.add (i32.const ${top}) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (i32.mul (local.get $s) (i32.const ${netBytes})))))
          (local.set $pj (i32.add (i32.const ${lay.Jt}) (i32.mul (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)) (i32.const ${netBytes}))))
          (local.set $v (v128.const i32x4 0 0 0 0))
          ${loop(
            '$rh',
            '$h',
            0,
            16,
            `(i32.const ${netBytes})`,
            `(local.set $v (f32x4.add (local.get $v) (f32x4.mul (v128.load (i32.add (local.get $ph) (local.get $h))) (v128.load (i32.add (local.get $pj) (local.get $h))))))`,
          )}
          (local.set $k (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)))
          (f32.store (i32.add (i32.const ${lay.L}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (local.get $k)) (i32.const 2)))
            (f32.add ${hsum('(local.get $v)')} (f32.load (i32.add (i32.const ${lay.b2}) (i32.shl (local.get $k) (i32.const 2))))))`,
        ),
      ),
    )})

  ;; From G (the scaled output error, rows beyond the batch zero): the step of every parameter.
  (func (export "backward") (param $rows i32) (param $pa f32) (param $pc2 f32)
    (local $i i32) (local $o i32) (local $s i32) (local $h i32) (local $k i32) (local $ph i32) (local $pj i32) (local $pg i32) (local $pd i32)
    (local $u v128) (local $v v128) (local $gs f32) (local $ms f32) (local $vs f32) ${ADAM_LOCALS}
    (global.set $a (local.get $pa))
    (global.set $c2 (local.get $pc2))
    ${ADAM_SPLATS}
    ${
      trainReadout
        ? `;; dJt[s, o, :] = Σ_i G[i, s, o]·Hb[i, s·Hp:] (before Hb is overwritten)
    ${loop(
      '$js',
      '$s',
      0,
      1,
      `(i32.const ${S})`,
      loop(
        '$jo',
        '$o',
        0,
        1,
        `(i32.const ${K})`,
        `(local.set $pj (i32.add (i32.const ${lay.dJt}) (i32.mul (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o)) (i32.const ${netBytes}))))
        ${loop(
          '$jh',
          '$h',
          0,
          16,
          `(i32.const ${netBytes})`,
          `(local.set $v (v128.const i32x4 0 0 0 0))
          ${loop(
            '$ji',
            '$i',
            0,
            1,
            '(local.get $rows)',
            `(local.set $v (f32x4.add (local.get $v) (f32x4.mul
              (v128.load32_splat (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (i32.add (i32.mul (local.get $s) (i32.const ${K})) (local.get $o))) (i32.const 2))))
              (v128.load (i32.add (i32.add (i32.const ${top}) (i32.mul (local.get $i) (i32.const ${rowH}))) (i32.add (i32.mul (local.get $s) (i32.const ${netBytes})) (local.get $h)))))))`,
          )}
          (v128.store (i32.add (local.get $pj) (local.get $h)) (local.get $v))`,
        )}`,
      ),
    )}`
        : ''
    }
    ;; top Hb ← ∂L/∂z = (G·Jt) ⊙ f′, per row and network; the padding tail beyond S·Hp ← 0
    ${loop(
      '$di',
      '$i',
      0,
      1,
      '(local.get $rows)',
      `${loop(
        '$ds',
        '$s',
        0,
        1,
        `(i32.const ${S})`,
        `(local.set $ph (i32.add (i32.const ${top}) (i32.add (i32.mul (local.get $i) (i32.const ${rowH})) (i32.mul (local.get $s) (i32.const ${netBytes})))))
        (local.set $pg (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (i32.mul (local.get $s) (i32.const ${K}))) (i32.const 2))))
        (local.set $pj (i32.add (i32.const ${lay.Jt}) (i32.mul (local.get $s) (i32.const ${K * netBytes}))))
        ${loop(
          '$dh',
          '$h',
          0,
          16,
          `(i32.const ${netBytes})`,
          `(local.set $u (v128.const i32x4 0 0 0 0))
          ${range(K)
            .map(
              (o) =>
                `(local.set $u (f32x4.add (local.get $u) (f32x4.mul (v128.load32_splat offset=${o * 4} (local.get $pg)) (v128.load offset=${o * netBytes} (i32.add (local.get $pj) (local.get $h))))))`,
            )
            .join('\n          ')}
          (local.set $pd (i32.add (local.get $ph) (local.get $h)))
          (v128.store (local.get $pd) (f32x4.mul (local.get $u) ${
            stored
              ? `(v128.load offset=${fOff} (local.get $pd))`
              : `(block (result v128) (local.set $v (v128.load (local.get $pd))) ${derivative(act)})`
          }))`,
        )}`,
      )}
      ${
        M > S * Hp
          ? loop(
              '$dt',
              '$h',
              S * Hp * 4,
              16,
              `(i32.const ${colsEnd})`,
              `(v128.store (i32.add (i32.add (i32.const ${top}) (i32.mul (local.get $i) (i32.const ${rowH}))) (local.get $h)) (v128.const i32x4 0 0 0 0))`,
            )
          : ''
      }`,
    )}
    ;; deeper layers, top down: their update from the activity below, then δ of the layer below
    ${deepBackward}
    ;; the first layer: W (+)= Xᵀ·δ, b1 (+)= Σ_i δ
    (call $update1 (local.get $rows) (i32.const ${lay.X}) (i32.const ${lay.Hb[0]}) (i32.const ${lay.W}) (i32.const ${lay.b1}))
    ${
      trainReadout
        ? `;; Jt ← apply(dJt)
    ${loop(
      '$ju',
      '$h',
      0,
      16,
      `(i32.const ${S * K * netBytes})`,
      `(local.set $pd (i32.add (i32.const ${lay.Jt}) (local.get $h)))
      ${apply('(local.get $pd)', 0, `(v128.load (i32.add (i32.const ${lay.dJt}) (local.get $h)))`)}`,
    )}`
        : ''
    }
    ;; b2 ← apply(Σ_i G[i, :]), one value at a time
    ${loop(
      '$bk',
      '$k',
      0,
      1,
      `(i32.const ${S * K})`,
      `(local.set $gs (f32.const 0))
      ${loop(
        '$bi',
        '$i',
        0,
        1,
        '(local.get $rows)',
        `(local.set $gs (f32.add (local.get $gs) (f32.load (i32.add (i32.const ${lay.G}) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const ${S * K})) (local.get $k)) (i32.const 2))))))`,
      )}
      (local.set $pd (i32.add (i32.const ${lay.b2}) (i32.shl (local.get $k) (i32.const 2))))
      ${
        adamOpt
          ? `(local.set $ms (f32.add (f32.mul (f32.load offset=${lay.m} (local.get $pd)) (f32.const ${f32(beta1)})) (f32.mul (local.get $gs) (f32.const ${f32(1 - beta1)}))))
      (local.set $vs (f32.add (f32.mul (f32.load offset=${lay.v} (local.get $pd)) (f32.const ${f32(beta2)})) (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (f32.const ${f32(1 - beta2)}))))
      (f32.store offset=${lay.m} (local.get $pd) (local.get $ms))
      (f32.store offset=${lay.v} (local.get $pd) (local.get $vs))
      (f32.store (local.get $pd) (f32.sub (f32.load (local.get $pd))
        (f32.div (f32.mul (local.get $ms) (global.get $a)) (f32.add (f32.sqrt (f32.div (local.get $vs) (global.get $c2))) (f32.const ${f32(eps)})))))`
          : '(f32.store (local.get $pd) (f32.add (f32.load (local.get $pd)) (local.get $gs)))'
      }`,
    )})
)`;
}
