/*
 * Optional C helper for rtproto.websocket._frames: XOR a payload with a
 * 4-byte WebSocket masking key (RFC 6455 section 5.3) in one pass, eight
 * bytes at a time.  rtproto falls back to pure Python when this is not
 * built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
mask(PyObject *self, PyObject *args)
{
    Py_buffer data, key;
    if (!PyArg_ParseTuple(args, "y*y*:mask", &data, &key)) {
        return NULL;
    }
    if (key.len != 4) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_ValueError, "mask key must be 4 bytes");
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)data.buf;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    const unsigned char *k = (const unsigned char *)key.buf;
    Py_ssize_t n = data.len, i = 0;

    Py_BEGIN_ALLOW_THREADS
    uint64_t k8;
    unsigned char kk[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
    memcpy(&k8, kk, 8);
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, in + i, 8);
        w ^= k8;
        memcpy(out + i, &w, 8);
    }
    for (; i < n; i++) {
        out[i] = in[i] ^ k[i & 3];
    }
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&data);
    PyBuffer_Release(&key);
    return result;
}

static PyMethodDef methods[] = {
    {"mask", mask, METH_VARARGS, "mask(data, key) -> bytes: XOR data with the 4-byte key repeated."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rtproto.websocket._speedups",
    "Optional C helpers for the WebSocket core.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
