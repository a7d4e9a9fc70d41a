// spm_shim.cc: wraps sentencepiece::SentencePieceProcessor behind the plain C functions of spm_shim.h.
// Rule: every entry point catches everything; the C side sees only FT_E* codes and malloc'd memory.
#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

// The codes of common/ft.h this file returns (ft.h itself is C-only).
enum { SHIM_ENOMEM = -1, SHIM_EINVAL = -3, SHIM_ERANGE = -5, SHIM_EFORMAT = -9 };

struct ft_spm {
    sentencepiece::SentencePieceProcessor proc;
};

static void copy_msg(char *err, size_t errlen, const std::string &msg) {
    if (!err || errlen == 0) return;
    size_t n = msg.size() < errlen - 1 ? msg.size() : errlen - 1;
    std::memcpy(err, msg.data(), n);
    err[n] = 0;
}

extern "C" int ft_spm_load(const void *proto, size_t len, ft_spm **out, char *err, size_t errlen) {
    *out = nullptr;
    try {
        ft_spm *sp = new ft_spm;
        auto st = sp->proc.LoadFromSerializedProto(
            absl::string_view(static_cast<const char *>(proto), len));
        if (!st.ok()) {
            copy_msg(err, errlen, st.ToString());
            delete sp;
            return SHIM_EFORMAT;
        }
        *out = sp;
        return 0;
    } catch (const std::bad_alloc &) {
        copy_msg(err, errlen, "out of memory");
        return SHIM_ENOMEM;
    } catch (const std::exception &e) {
        copy_msg(err, errlen, e.what());
        return SHIM_EFORMAT;
    } catch (...) {
        copy_msg(err, errlen, "unknown C++ exception");
        return SHIM_EFORMAT;
    }
}

extern "C" void ft_spm_free(ft_spm *sp) { delete sp; }

extern "C" int ft_spm_encode(const ft_spm *sp, const char *text, size_t len, uint32_t **v, size_t *n,
                             size_t *cap) {
    try {
        // One vector per thread, reused: the library fills a std::vector<int>.
        thread_local std::vector<int> ids;
        ids.clear();
        if (!sp->proc.Encode(absl::string_view(text, len), &ids).ok()) return SHIM_EINVAL;
        size_t need = *n + ids.size();
        if (need > *cap) {
            size_t c = *cap ? *cap : 64;
            while (c < need) c *= 2;
            void *p = std::realloc(*v, c * sizeof **v);
            if (!p) return SHIM_ENOMEM;
            *v = static_cast<uint32_t *>(p);
            *cap = c;
        }
        for (size_t i = 0; i < ids.size(); i++) (*v)[*n + i] = static_cast<uint32_t>(ids[i]);
        *n = need;
        return 0;
    } catch (const std::bad_alloc &) {
        return SHIM_ENOMEM;
    } catch (...) {
        return SHIM_EINVAL;
    }
}

extern "C" int ft_spm_decode(const ft_spm *sp, const uint32_t *ids, size_t n, char **out, size_t *len) {
    *out = nullptr;
    *len = 0;
    try {
        int size = sp->proc.GetPieceSize();
        std::vector<int> v(n);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] >= static_cast<uint32_t>(size)) return SHIM_ERANGE;
            v[i] = static_cast<int>(ids[i]);
        }
        std::string s;
        if (!sp->proc.Decode(v, &s).ok()) return SHIM_EINVAL;
        char *p = static_cast<char *>(std::malloc(s.size() + 1));
        if (!p) return SHIM_ENOMEM;
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = 0;
        *out = p;
        *len = s.size();
        return 0;
    } catch (const std::bad_alloc &) {
        return SHIM_ENOMEM;
    } catch (...) {
        return SHIM_EINVAL;
    }
}

extern "C" int ft_spm_size(const ft_spm *sp) { return sp->proc.GetPieceSize(); }

extern "C" const char *ft_spm_piece(const ft_spm *sp, int id) {
    if (id < 0 || id >= sp->proc.GetPieceSize()) return nullptr;
    return sp->proc.IdToPiece(id).c_str();
}

extern "C" int ft_spm_piece_id(const ft_spm *sp, const char *piece, size_t len) {
    try {
        absl::string_view s(piece, len);
        int id = sp->proc.PieceToId(s);
        // PieceToId answers unk for anything it does not know: only an exact match counts.
        if (id < 0 || sp->proc.IdToPiece(id) != s) return -1;
        return id;
    } catch (...) {
        return -1;
    }
}

extern "C" int ft_spm_bos_id(const ft_spm *sp) { return sp->proc.bos_id(); }
extern "C" int ft_spm_eos_id(const ft_spm *sp) { return sp->proc.eos_id(); }
extern "C" int ft_spm_unk_id(const ft_spm *sp) { return sp->proc.unk_id(); }
extern "C" int ft_spm_pad_id(const ft_spm *sp) { return sp->proc.pad_id(); }
