// Shared by every kernel: the workgroup size and the flat workgroup index. Large grids are laid
// out as (x, y) with x <= 32768 (the host's dispatch_grid), since maxComputeWorkGroupCount[0] may
// be as low as 65535 and a vocabulary has more rows than that.
#define WG 64
layout(local_size_x = WG) in;

uint flat_group() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
uint flat_thread() { return flat_group() * WG + gl_LocalInvocationID.x; }

// Tree sum of red[0 .. WG) into red[0]; every invocation of the workgroup must call it.
#define WG_REDUCE_SUM(red)                                           \
  for (uint s_ = WG / 2; s_ > 0; s_ >>= 1) {                         \
    barrier();                                                       \
    if (gl_LocalInvocationID.x < s_) red[gl_LocalInvocationID.x] += red[gl_LocalInvocationID.x + s_]; \
  }                                                                  \
  barrier();
