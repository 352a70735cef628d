;; geomstream's f64x2 dense kernels (src/kernels/module.ts loads the binary built from this file
;; by `npm run build:wasm`).
(module
  (import "env" "memory" (memory 1))

  ;; out[i] = Σ_j Z[i, j]·v[j] + v[p], for i < n (Z row-major n × p). The dot product is written out
  ;; here rather than calling $dot: the call per row cost 15 % of an SVM fit (measured).
  (func (export "dots") (param $Z i32) (param $n i32) (param $p i32) (param $v i32) (param $out i32)
    (local $i i32) (local $j i32) (local $row i32) (local $acc v128) (local $s f64) (local $pe i32)
    (local.set $pe (i32.and (local.get $p) (i32.const -2)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $rows
        (local.set $row (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $i) (local.get $p)) (i32.const 3))))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $je
          (br_if $je (i32.eqz (local.get $pe)))
          (loop $js
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul
              (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))
              (v128.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3)))))))
            (br_if $js (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $pe)))))
        (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (if (i32.ne (local.get $pe) (local.get $p))
          (then (local.set $s (f64.add (local.get $s) (f64.mul
            (f64.load (i32.add (local.get $row) (i32.shl (local.get $pe) (i32.const 3))))
            (f64.load (i32.add (local.get $v) (i32.shl (local.get $pe) (i32.const 3)))))))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
          (f64.add (local.get $s) (f64.load (i32.add (local.get $v) (i32.shl (local.get $p) (i32.const 3))))))
        (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))))

  ;; S[j, k] += scale·Σ_t z_t[j]·z_t[k] for k ≥ j (the upper triangle; S is q × q, q = p + 1,
  ;; with two spare entries after it), z_t = (Z[idx[t]], 1), four rows at a time copied into the
  ;; scratch zs (4 × qp, qp = q rounded up to even, zero-padded). Columns are taken in pairs from
  ;; j rounded down to even, so a pair may add to S[j, j − 1] (lower triangle: the caller
  ;; overwrites it) or, past the row's end, add 0 (the padding).
  (func (export "outer") (param $Z i32) (param $p i32) (param $idx i32) (param $m i32) (param $S i32) (param $scale f64) (param $zs i32)
    (local $q i32) (local $qp i32) (local $t i32) (local $r i32) (local $j i32) (local $k i32) (local $src i32) (local $dst i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $o i32) (local $rowS i32) (local $kb i32)
    (local.set $q (i32.add (local.get $p) (i32.const 1)))
    (local.set $qp (i32.and (i32.add (local.get $q) (i32.const 1)) (i32.const -2)))
    (block $done
      (br_if $done (i32.eqz (local.get $m)))
      (loop $ts
        ;; gather rows t..t+3 into zs (a missing row is all zeros)
        (local.set $r (i32.const 0))
        (loop $rs
          (local.set $dst (i32.add (local.get $zs) (i32.shl (i32.mul (local.get $r) (local.get $qp)) (i32.const 3))))
          (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $qp) (i32.const 3)))
          (if (i32.lt_u (i32.add (local.get $t) (local.get $r)) (local.get $m))
            (then
              (local.set $src (i32.add (local.get $Z) (i32.shl (i32.mul
                (i32.load (i32.add (local.get $idx) (i32.shl (i32.add (local.get $t) (local.get $r)) (i32.const 2))))
                (local.get $p)) (i32.const 3))))
              (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $p) (i32.const 3)))
              (f64.store (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 3))) (f64.const 1))))
          (br_if $rs (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
        (local.set $j (i32.const 0))
        (loop $js
          (local.set $o (i32.shl (local.get $j) (i32.const 3)))
          (local.set $a0 (f64x2.splat (f64.mul (local.get $scale) (f64.load (i32.add (local.get $zs) (local.get $o))))))
          (local.set $a1 (f64x2.splat (f64.mul (local.get $scale) (f64.load (i32.add (i32.add (local.get $zs) (i32.shl (local.get $qp) (i32.const 3))) (local.get $o))))))
          (local.set $a2 (f64x2.splat (f64.mul (local.get $scale) (f64.load (i32.add (i32.add (local.get $zs) (i32.shl (local.get $qp) (i32.const 4))) (local.get $o))))))
          (local.set $a3 (f64x2.splat (f64.mul (local.get $scale) (f64.load (i32.add (i32.add (local.get $zs) (i32.mul (local.get $qp) (i32.const 24))) (local.get $o))))))
          (local.set $rowS (i32.add (local.get $S) (i32.shl (i32.mul (local.get $j) (local.get $q)) (i32.const 3))))
          (local.set $k (i32.and (local.get $j) (i32.const -2)))
          (loop $ks
            (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
            (local.set $src (i32.add (local.get $zs) (local.get $kb)))
            (local.set $dst (i32.add (local.get $rowS) (local.get $kb)))
            (v128.store (local.get $dst) (f64x2.add (v128.load (local.get $dst))
              (f64x2.add
                (f64x2.add (f64x2.mul (local.get $a0) (v128.load (local.get $src)))
                           (f64x2.mul (local.get $a1) (v128.load (i32.add (local.get $src) (i32.shl (local.get $qp) (i32.const 3))))))
                (f64x2.add (f64x2.mul (local.get $a2) (v128.load (i32.add (local.get $src) (i32.shl (local.get $qp) (i32.const 4)))))
                           (f64x2.mul (local.get $a3) (v128.load (i32.add (local.get $src) (i32.mul (local.get $qp) (i32.const 24)))))))))
            (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 2))) (local.get $q))))
          (br_if $js (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $q))))
        (br_if $ts (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 4))) (local.get $m))))))

  ;; out[j] = Σ_i c[i]·Z[i, j] for j < p, out[p] = Σ_i c[i] (a weighted sum of the rows z_i = (x_i, 1)).
  (func (export "tdots") (param $Z i32) (param $n i32) (param $p i32) (param $c i32) (param $out i32)
    (local $i i32) (local $ci f64) (local $sum f64)
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 3)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $rows
        (local.set $ci (f64.load (i32.add (local.get $c) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $sum (f64.add (local.get $sum) (local.get $ci)))
        (call $axpy (local.get $out)
          (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $i) (local.get $p)) (i32.const 3))) (local.get $p) (local.get $ci))
        (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
    (f64.store (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 3))) (local.get $sum)))

  ;; One pass of dual coordinate descent for the L2-loss linear SVM (Hsieh et al. 2008), over the
  ;; rows in the order given: w (p + 1 entries, the last for the constant feature) and alpha are
  ;; updated in place; returns the spread max − min of the projected gradients.
  (func (export "dualpass") (param $Z i32) (param $n i32) (param $p i32) (param $order i32) (param $alpha i32) (param $sign i32) (param $qd i32) (param $w i32) (param $diag f64) (result f64)
    (local $k i32) (local $i i32) (local $row i32) (local $at i32) (local $o i32)
    (local $s f64) (local $a f64) (local $G f64) (local $pg f64) (local $d f64) (local $hi f64) (local $lo f64)
    (local.set $hi (f64.const -inf))
    (local.set $lo (f64.const inf))
    (loop $ks
      (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
      (local.set $at (i32.shl (local.get $i) (i32.const 3)))
      (local.set $row (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $i) (local.get $p)) (i32.const 3))))
      (local.set $s (f64.load (i32.add (local.get $sign) (local.get $at))))
      (local.set $a (f64.load (i32.add (local.get $alpha) (local.get $at))))
      (local.set $G (f64.add (f64.sub (f64.mul (local.get $s)
          (f64.add (call $dot (local.get $row) (local.get $w) (local.get $p)) (f64.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 3))))))
        (f64.const 1)) (f64.mul (local.get $diag) (local.get $a))))
      (local.set $pg (if (result f64) (f64.eq (local.get $a) (f64.const 0)) (then (f64.min (local.get $G) (f64.const 0))) (else (local.get $G))))
      (local.set $hi (f64.max (local.get $hi) (local.get $pg)))
      (local.set $lo (f64.min (local.get $lo) (local.get $pg)))
      (if (f64.ne (local.get $pg) (f64.const 0))
        (then
          (local.set $d (f64.max (f64.sub (local.get $a) (f64.div (local.get $G) (f64.load (i32.add (local.get $qd) (local.get $at))))) (f64.const 0)))
          (f64.store (i32.add (local.get $alpha) (local.get $at)) (local.get $d))
          (local.set $d (f64.mul (f64.sub (local.get $d) (local.get $a)) (local.get $s)))
          (if (f64.ne (local.get $d) (f64.const 0))
            (then
              (call $axpy (local.get $w) (local.get $row) (local.get $p) (local.get $d))
              (local.set $o (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 3))))
              (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (local.get $d)))))))
      (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n))))
    (f64.sub (local.get $hi) (local.get $lo)))

  ;; y[k] += a·x[k] for k < len (f64x2 over pairs, then the odd tail).
  (func $axpy (param $y i32) (param $x i32) (param $len i32) (param $a f64)
    (local $k i32) (local $e i32) (local $av v128) (local $o i32)
    (local.set $e (i32.and (local.get $len) (i32.const -2)))
    (local.set $av (f64x2.splat (local.get $a)))
    (block $done
      (br_if $done (i32.eqz (local.get $e)))
      (loop $ks
        (local.set $o (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 3))))
        (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o))
          (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3)))))))
        (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 2))) (local.get $e)))))
    (if (i32.ne (local.get $e) (local.get $len))
      (then
        (local.set $o (i32.add (local.get $y) (i32.shl (local.get $e) (i32.const 3))))
        (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
          (f64.mul (local.get $a) (f64.load (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 3))))))))))

  ;; Σ_{k<len} a[k]·b[k] (f64x2 over pairs, then the odd tail).
  (func $dot (param $a i32) (param $b i32) (param $len i32) (result f64)
    (local $k i32) (local $acc v128) (local $e i32) (local $s f64)
    (local.set $e (i32.and (local.get $len) (i32.const -2)))
    (block $done
      (br_if $done (i32.eqz (local.get $e)))
      (loop $ks
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul
          (v128.load (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 3))))
          (v128.load (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 3)))))))
        (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 2))) (local.get $e)))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (result f64) (i32.ne (local.get $e) (local.get $len))
      (then (f64.add (local.get $s) (f64.mul
        (f64.load (i32.add (local.get $a) (i32.shl (local.get $e) (i32.const 3))))
        (f64.load (i32.add (local.get $b) (i32.shl (local.get $e) (i32.const 3)))))))
      (else (local.get $s))))

  ;; out[r, i] = b[i] + X[r, :]·W[i, :] for r < n, i < m (X n × k, W m × k, row-major): an affine
  ;; layer X Wᵀ + b, two output units at a time so each row of X is loaded once per pair.
  (func (export "affine") (param $X i32) (param $n i32) (param $k i32) (param $W i32) (param $m i32) (param $b i32) (param $out i32)
    (local $r i32) (local $i i32) (local $j i32) (local $ke i32) (local $xr i32) (local $w0 i32) (local $w1 i32)
    (local $a0 v128) (local $a1 v128) (local $x v128) (local $s0 f64) (local $s1 f64) (local $o i32)
    (local.set $ke (i32.and (local.get $k) (i32.const -2)))
    (loop $rs
      (local.set $xr (i32.add (local.get $X) (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 3))))
      (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $m)) (i32.const 3))))
      (local.set $i (i32.const 0))
      (loop $is
        (local.set $w0 (i32.add (local.get $W) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))
          (then
            (local.set $w1 (i32.add (local.get $w0) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $a0 (v128.const i64x2 0 0))
            (local.set $a1 (v128.const i64x2 0 0))
            (local.set $j (i32.const 0))
            (block $je
              (br_if $je (i32.eqz (local.get $ke)))
              (loop $js
                (local.set $x (v128.load (i32.add (local.get $xr) (i32.shl (local.get $j) (i32.const 3)))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $w0) (i32.shl (local.get $j) (i32.const 3)))))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $w1) (i32.shl (local.get $j) (i32.const 3)))))))
                (br_if $js (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $ke)))))
            (local.set $s0 (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
            (local.set $s1 (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1))))
            (if (i32.ne (local.get $ke) (local.get $k))
              (then
                (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.load (i32.add (local.get $xr) (i32.shl (local.get $ke) (i32.const 3)))) (f64.load (i32.add (local.get $w0) (i32.shl (local.get $ke) (i32.const 3)))))))
                (local.set $s1 (f64.add (local.get $s1) (f64.mul (f64.load (i32.add (local.get $xr) (i32.shl (local.get $ke) (i32.const 3)))) (f64.load (i32.add (local.get $w1) (i32.shl (local.get $ke) (i32.const 3)))))))))
            (f64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (local.get $s0) (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))))
            (f64.store (i32.add (local.get $o) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))
              (f64.add (local.get $s1) (f64.load (i32.add (local.get $b) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2))))
          (else
            (f64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (call $dot (local.get $xr) (local.get $w0) (local.get $k)) (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (br_if $is (i32.lt_u (local.get $i) (local.get $m))))
      (br_if $rs (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $n)))))

  ;; Solve A z = r for symmetric positive definite A (n × n, row-major): Cholesky A = L Lᵀ in place
  ;; (L in A's lower triangle), then L y = r and Lᵀ z = y. Pivots below 1e-300 are clamped.
  (func (export "cholsolve") (param $A i32) (param $n i32) (param $r i32) (param $z i32)
    (local $i i32) (local $j i32) (local $k i32) (local $ri i32) (local $rj i32) (local $s f64)
    (loop $is
      (local.set $ri (i32.add (local.get $A) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
      (local.set $j (i32.const 0))
      (loop $js
        (local.set $rj (i32.add (local.get $A) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $s (f64.sub (f64.load (i32.add (local.get $ri) (i32.shl (local.get $j) (i32.const 3))))
          (call $dot (local.get $ri) (local.get $rj) (local.get $j))))
        (f64.store (i32.add (local.get $ri) (i32.shl (local.get $j) (i32.const 3)))
          (if (result f64) (i32.eq (local.get $i) (local.get $j))
            (then (f64.sqrt (f64.max (local.get $s) (f64.const 1e-300))))
            (else (f64.div (local.get $s) (f64.load (i32.add (local.get $rj) (i32.shl (local.get $j) (i32.const 3))))))))
        (br_if $js (i32.le_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $i))))
      (br_if $is (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    ;; L y = r (y in z)
    (local.set $i (i32.const 0))
    (loop $fs
      (local.set $ri (i32.add (local.get $A) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
      (f64.store (i32.add (local.get $z) (i32.shl (local.get $i) (i32.const 3)))
        (f64.div (f64.sub (f64.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 3))))
                          (call $dot (local.get $ri) (local.get $z) (local.get $i)))
                 (f64.load (i32.add (local.get $ri) (i32.shl (local.get $i) (i32.const 3))))))
      (br_if $fs (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    ;; Lᵀ z = y, by columns of L (stride n)
    (local.set $i (local.get $n))
    (loop $bs
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (local.set $s (f64.load (i32.add (local.get $z) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $k (i32.add (local.get $i) (i32.const 1)))
      (block $kd
        (br_if $kd (i32.ge_u (local.get $k) (local.get $n)))
        (loop $ks
          (local.set $s (f64.sub (local.get $s) (f64.mul
            (f64.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $i)) (i32.const 3))))
            (f64.load (i32.add (local.get $z) (i32.shl (local.get $k) (i32.const 3)))))))
          (br_if $ks (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n)))))
      (f64.store (i32.add (local.get $z) (i32.shl (local.get $i) (i32.const 3)))
        (f64.div (local.get $s) (f64.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $i)) (i32.const 3))))))
      (br_if $bs (i32.gt_u (local.get $i) (i32.const 0)))))
)
