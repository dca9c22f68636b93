#pragma once
// The TrueType/OpenType faces installed from Debian's font packages (scripts/setup.sh lists them) that
// look like painted codes: upright sans, mono, condensed and stencil faces; no italics, hairlines,
// serif book faces or symbol fonts.

#include <string>
#include <vector>

namespace cargovision {

// Sorted paths, one per file name (Debian installs some faces twice); empty when none is installed.
// Scanned and checked once per process (each face is loaded to check its glyphs).
const std::vector<std::string>& find_system_fonts();

// Whether a font file name is one find_system_fonts keeps.
bool is_code_font_name(const std::string& file_name);

}  // namespace cargovision
