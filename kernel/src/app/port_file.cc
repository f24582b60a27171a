// write_port_file: temp file + rename.
#include "app/port_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mq::kernel {

Status write_port_file(const std::string& path, uint16_t port) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return Status::system("cannot create directory " + p.parent_path().string() + ": " + ec.message());
  std::filesystem::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    out.close();
    if (!out) return Status::system("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) return Status::system("cannot rename " + tmp.string() + " to " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace mq::kernel
