"""Our own row decoder: RawEvents in, EventRecords (model values) out, one compiled plan per Table_map."""
