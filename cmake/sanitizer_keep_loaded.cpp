// Linked into every executable of a sanitizer build (cmake/sanitizers.cmake): dlclose() leaves
// the library mapped. Drivers that are opened and closed at run time (the Vulkan loader closes
// mesa's lavapipe at vkDestroyInstance) would otherwise take their globals with them, so
// LeakSanitizer reports whatever those globals pointed to as leaked, from "<unknown module>"
// frames no suppression can name. Kept mapped, the memory stays reachable and every frame
// symbolizes. The Vulkan loader has the same switch for sanitizer runs
// (VK_LOADER_DISABLE_DYNAMIC_LIBRARY_UNLOADING), newer than the loader in Debian 12.

extern "C" int dlclose(void*) { return 0; }
