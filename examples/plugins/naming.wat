;; A gov plugin written directly in WebAssembly text (ABI version 1, see
;; docs/plugins.md): naming conventions for credentials.
;;
;;   is_kebab(name: string) -> bool      lowercase words joined by single hyphens
;;   team_prefix(name: string) -> string the text before the first `-`
;;
;; Memory: bytes 0..1024 hold constant messages; every `gov_alloc` starts a
;; new call, so arguments always go at offset 1024 (growing memory when the
;; argument is long). Results point into the argument itself: no copy.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "the name starts with `-`")
  ;; The last error as a packed `ptr << 32 | len` (0: none).
  (global $error (mut i64) (i64.const 0))

  (func (export "gov_abi_version") (result i32) (i32.const 1))

  (func (export "gov_last_error") (result i64) (global.get $error))

  (func (export "gov_alloc") (param $len i32) (result i32)
    (local $pages i32)
    ;; pages needed for 1024 + len bytes
    (local.set $pages
      (i32.shr_u
        (i32.add (i32.add (local.get $len) (i32.const 1024)) (i32.const 65535))
        (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const -1))))))
    (i32.const 1024))

  (func (export "is_kebab") (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32) (local $prev i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    ;; As if after a `-`: a leading `-` is a doubled one.
    (local.set $prev (i32.const 45))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.eq (local.get $c) (i32.const 45))
          (then
            (if (i32.eq (local.get $prev) (i32.const 45)) (then (return (i32.const 0)))))
          (else
            (if (i32.eqz
                  (i32.or
                    (i32.and (i32.ge_u (local.get $c) (i32.const 97))
                             (i32.le_u (local.get $c) (i32.const 122)))
                    (i32.and (i32.ge_u (local.get $c) (i32.const 48))
                             (i32.le_u (local.get $c) (i32.const 57)))))
              (then (return (i32.const 0))))))
        (local.set $prev (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; A trailing `-` fails too.
    (i32.ne (local.get $prev) (i32.const 45)))

  (func (export "team_prefix") (param $p i32) (param $n i32) (result i64)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (br_if $done
          (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 45)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; `-abc` has no prefix: report an error (message at 0, 24 bytes).
    (if (i32.and (i32.eqz (local.get $i)) (i32.ne (local.get $n) (i32.const 0)))
      (then
        (global.set $error (i64.const 24))
        (return (i64.const -1))))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
      (i64.extend_i32_u (local.get $i))))
)
