/* The test library of tests/ffi_call.rs, compiled by `cc -shared` at test time:
   every scalar type, structs and unions by value, varargs, errno, callbacks. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int8_t t_i8(int8_t a, int8_t b) { return (int8_t)(a + b); }
uint8_t t_u8(uint8_t a, uint8_t b) { return (uint8_t)(a + b); }
int16_t t_i16(int16_t a, int16_t b) { return (int16_t)(a + b); }
uint16_t t_u16(uint16_t a, uint16_t b) { return (uint16_t)(a + b); }
int32_t t_i32(int32_t a, int32_t b) { return a + b; }
uint32_t t_u32(uint32_t a, uint32_t b) { return a + b; }
int64_t t_i64(int64_t a, int64_t b) { return a * b; }
uint64_t t_u64(uint64_t a, uint64_t b) { return a + b; }
float t_f32(float a, float b) { return a * b; }
double t_f64(double a, double b) { return a / b; }
long double t_ld(long double a, long double b) { return a + b; }
bool t_bool(bool a) { return !a; }
const char *t_ptr(const char *s, int k) { return s + k; }
void t_void(int *out, int v) { *out = v; }

/* More arguments than registers, integer and floating point mixed. */
double t_many(int a, double b, float c, int64_t d, char e, unsigned short f, void *p,
              int g, double h, int i, double j, int k, double l, double m, double n,
              double o, double q, int r)
{
    return a + b + c + (double)d + e + f + (p ? 1000 : 0) + g + h + i + j + k + l + m + n + o + q + r;
}

typedef struct { int x, y; } P2;
typedef struct { float x, y, z; } V3;
typedef struct { double d; int i; } DI;
typedef struct { char c[3]; } C3;
typedef struct { int a[10]; } Big;
typedef union { float f; int i; } UFI;
typedef struct { unsigned a : 3, b : 5; int c; } BF;
typedef struct { float re, im; } CF;
typedef struct { double x, y; } D2;

P2 t_p2(P2 a, P2 b) { P2 r = { a.x + b.x, a.y * b.y }; return r; }
V3 t_v3(V3 a, float s) { V3 r = { a.x * s, a.y * s, a.z * s }; return r; }
DI t_di(DI a) { DI r = { a.d * 2, a.i + 1 }; return r; }
C3 t_c3(C3 a) { C3 r = { { a.c[2], a.c[1], a.c[0] } }; return r; }
Big t_big(Big b, int k) { b.a[k] += 100; return b; }
int t_ufi(UFI u, int as_int) { return as_int ? u.i : (int)u.f; }
UFI t_ufi_ret(float f) { UFI u; u.f = f; return u; }
int t_bf(BF s) { return s.a * 100 + s.b * 10 + s.c; }
D2 t_d2(D2 a, D2 b) { D2 r = { a.x + b.x, a.y + b.y }; return r; }
double t_cabs2(CF c) { return (double)c.re * c.re + (double)c.im * c.im; }

int t_isum(int n, ...)
{
    va_list ap; int s = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}

double t_dsum(int n, ...)
{
    va_list ap; double s = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) s += va_arg(ap, double);
    va_end(ap);
    return s;
}

int64_t t_mixed_va(const char *fmt, ...)
{
    /* 'i' int, 'l' int64_t, 'd' double, 'p' P2 by value */
    va_list ap; int64_t s = 0;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        switch (*fmt) {
        case 'i': s += va_arg(ap, int); break;
        case 'l': s += va_arg(ap, int64_t); break;
        case 'd': s += (int64_t)va_arg(ap, double); break;
        case 'p': { P2 p = va_arg(ap, P2); s += p.x * 10 + p.y; break; }
        }
    }
    va_end(ap);
    return s;
}

int t_set_errno(int e) { errno = e; return -1; }
int t_get_errno(void) { return errno; }

/* Callbacks. */
int t_apply(int (*f)(int), int x) { return f(x) + f(x + 1); }
double t_applyd(double (*f)(double, float), double x) { return f(x, 0.5f); }
int64_t t_apply64(int64_t (*f)(int64_t), int64_t x) { return f(x); }
void t_sort(int *a, int n, int (*cmp)(const void *, const void *)) { qsort(a, (size_t)n, sizeof(int), cmp); }
int t_count_calls(int (*f)(int), int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) s += f(i);
    return s;
}
