// Device and queue creation (see mtl_context.hpp).
#include "backends/metal/mtl_native.h"

#include <stdexcept>

namespace laneway::metal {
namespace {

std::string describe(id<MTLDevice> d) {
  std::string s = d.name.UTF8String;
  if (d.hasUnifiedMemory) s += " (unified memory)";
  return s;
}

}  // namespace

mtl_context::mtl_context() : objc_(std::make_unique<objc>()) {}
mtl_context::~mtl_context() = default;

std::optional<std::string> mtl_context::probe(std::string* why) {
  @autoreleasepool {
    id<MTLDevice> d = MTLCreateSystemDefaultDevice();
    if (d == nil) {
      if (why) *why = "no Metal device (MTLCreateSystemDefaultDevice returned nil)";
      return std::nullopt;
    }
    return describe(d);
  }
}

std::unique_ptr<mtl_context> mtl_context::create() {
  std::unique_ptr<mtl_context> c(new mtl_context());
  @autoreleasepool {
    c->objc_->device = MTLCreateSystemDefaultDevice();
    if (c->objc_->device != nil) {
      c->objc_->queue = [c->objc_->device newCommandQueue];
      c->name_ = c->objc_->device.name.UTF8String;
      c->unified_ = c->objc_->device.hasUnifiedMemory;
      c->max_buffer_ = static_cast<std::size_t>(c->objc_->device.maxBufferLength);
    }
  }
  // Thrown outside the autorelease pool.
  if (c->objc_->device == nil) throw std::runtime_error("no Metal device (MTLCreateSystemDefaultDevice returned nil)");
  if (c->objc_->queue == nil) throw std::runtime_error("Metal: cannot create a command queue on " + c->name_);
  return c;
}

}  // namespace laneway::metal
