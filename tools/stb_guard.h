// Checks in front of stb_image (Debian's stb 2.27) for two weaknesses of its decoders on
// malformed files, both found by tests/fuzz/fuzz_image.cc:
//  - JPEG: its Huffman-table reader (stbi__process_marker -> stbi__build_huffman) trusts the 16
//    code counts of a DHT segment; a sum above 256 writes past the 257-byte size list into the
//    rest of the decoder's heap state (UBSan: index 257 out of bounds for 'stbi_uc[257]').
//    Newer stb releases reject such tables themselves. And a scan that names a table no DHT
//    segment defined is decoded with it all the same, reading far past it (UBSan: index
//    16712944 out of bounds for 'stbi_uc[256]'); such scans are refused too.
//  - PNG: it reserves memory for the length an IDAT chunk declares (up to 2^30 bytes, doubling
//    its buffer to fit) before reading it, so a 1 kB file costs a 2 GB allocation; a chunk
//    longer than the rest of the file is refused here instead.
#pragma once

#include <cstddef>
#include <string>

namespace convnd::tool {

// Throws convnd::Error naming `name` for a JPEG (first byte 0xFF, as stb's JPEG test needs)
// holding a Huffman table of more than 256 codes or a scan that uses an undefined table, or a PNG whose chunk lengths run past the end
// of the file. Every "FF C4" byte pair of a JPEG is read as stb would read a DHT segment there
// (stb finds markers only at such pairs), so no table stb could build escapes the check.
void check_before_stb(const unsigned char* data, std::size_t size, const std::string& name);

}  // namespace convnd::tool
