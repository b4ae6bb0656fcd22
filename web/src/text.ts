// Every word the console shows, in one place, so a Hindi console can follow by adding a second
// object of the same shape. Customer data (names, messages) is shown as it is, Hindi included.
export const t = {
  appName: 'Karigar',
  loading: 'Loading…',
  saving: 'Saving…',
  save: 'Save',
  cancel: 'Cancel',
  close: 'Close',
  edit: 'Edit',
  add: 'Add',
  none: '—',
  retry: 'Try again',
  more: 'Load more',
  search: 'Search',
  notConnected: (what: string) => `Not connected yet — ${what}: this build of the service has no API for it.`,
  saved: 'Saved',
  skipToContent: 'Skip to content',

  nav: { label: 'Main', inbox: 'Inbox', leads: 'Leads', orders: 'Orders', workbench: 'Workbench', catalog: 'Catalog', customers: 'Customers', settings: 'Settings', logOut: 'Log out' },
  signedInAs: (name: string, role: string, business: string) => `${name} (${role}) · ${business}`,
  roles: { admin: 'Admin', manager: 'Manager', sales: 'Sales', production_worker: 'Production worker' } as Record<string, string>,

  login: {
    title: 'Log in to Karigar', email: 'E-mail', password: 'Password', submit: 'Log in',
    noAccount: 'New shop?', register: 'Register your business',
  },
  register: {
    title: 'Register your business', businessName: 'Business name', name: 'Your name', email: 'E-mail',
    password: 'Password (at least 8 characters)', submit: 'Register', haveAccount: 'Already registered?', login: 'Log in',
  },

  inbox: {
    title: 'Inbox', needsReplyOnly: 'Needs reply only', searchLabel: 'Search by name or number', empty: 'No conversations yet.',
    unread: (n: number) => `${n} unread`, needsReply: 'Needs reply', pick: 'Pick a conversation to read it.',
    back: 'All conversations', thread: 'Messages', older: 'Older messages',
    customer: 'Customer', lead: 'Lead', stranger: 'Not a customer yet', linkTo: 'Link to customer', link: 'Link',
    reply: 'Reply', replyForm: 'Write a reply', send: 'Send', sending: 'Sending…', automatic: 'Automatic', by: (name: string) => `by ${name}`,
    windowOpen: (closes: string) => `WhatsApp's 24-hour window is open until ${closes}.`,
    windowClosed: (closed: string) => `WhatsApp's 24-hour window closed ${closed}: only an approved template can be sent.`,
    windowNone: '', template: 'Template', templateParam: (p: string) => `Value for ${p}`, sendTemplate: 'Send template',
    noTemplates: 'No approved template is mapped for this channel (Settings → Channels).',
    deleted: 'Deleted by the sender', edited: 'edited', live: 'Live', polling: 'Updating every 10 seconds',
    status: { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Failed', received: 'Received' } as Record<string, string>,
    failedBecause: (why: string) => `Failed: ${why}`,
  },

  leads: {
    title: 'Leads', statusFilter: 'Status', all: 'All', empty: 'No leads.', convert: 'Convert to customer',
    converted: 'Converted', status: 'Status', makeDraft: 'Make a draft order', wants: 'Asked for', candidates: 'Could be', wanted: 'Wanted',
    review: { ambiguous_product: 'Unclear which product: the customer was asked which one.', no_product_match: 'No product in the catalog matched this order.' } as Record<string, string>, lastMessage: 'Last message',
    statuses: { new: 'New', contacted: 'Contacted', qualified: 'Qualified', converted: 'Converted', lost: 'Lost' } as Record<string, string>,
  },

  orders: {
    title: 'Orders', newSale: 'New sale', hideFinished: 'Hide finished', customer: 'Customer', product: 'Product', quantity: 'Quantity', addItem: 'Add item',
    createDraft: 'Create draft', columns: { overdue: 'Overdue', today: 'Today', tomorrow: 'Tomorrow', later: 'Later', none: 'No due date' } as Record<string, string>,
    draft: 'Draft', final: 'Final', finalize: 'Finalize', recordPayment: 'Record payment', amount: 'Amount', method: 'Method',
    reference: 'Reference (optional)', pay: 'Record', markReady: 'Mark ready', cancelSale: 'Cancel order', confirmCancel: 'Cancel this order?',
    total: 'Total', paid: 'Paid', balance: 'Balance', due: 'Due', source: (s: string) => `via ${s}`,
    production: 'Production', assign: 'Assign', worker: 'Worker', unassigned: 'Unassigned', editItems: 'Fix items', dueAt: 'Due',
    fulfilment: 'Fulfilment', fixAndCancel: 'fixing a draft and cancelling an order', dueDates: 'due dates', address: 'Delivery address', pickup: 'Pickup', delivery: 'Delivery', empty: 'Nothing here.',
    payment: { unpaid: 'Unpaid', partial: 'Part paid', paid: 'Paid' } as Record<string, string>,
    poStatus: { pending: 'Not started', in_progress: 'In production', completed: 'Made', ready: 'Ready', cancelled: 'Cancelled' } as Record<string, string>,
    methods: { cash: 'Cash', upi: 'UPI', card: 'Card', bank: 'Bank transfer' } as Record<string, string>,
  },

  workbench: {
    title: 'My work', empty: 'Nothing assigned to you right now.', start: 'Start', complete: 'Complete',
    step: (name: string, product: string, qty: number) => `${name} — ${qty} × ${product}`, order: (no: string) => `Order ${no}`,
    status: { pending: 'To do', in_progress: 'In progress', completed: 'Done' } as Record<string, string>,
  },

  catalog: {
    title: 'Catalog', add: 'Add product', name: 'Name', sku: 'SKU (optional)', price: 'Price', steps: 'Production steps (one per line)',
    archive: 'Archive', confirmArchive: (n: string) => `Archive ${n}? It stays on old orders.`, empty: 'No products yet.',
    noSteps: 'No production steps', showArchived: 'Show archived', editArchive: 'editing and archiving products', archived: 'Archived',
  },

  customers: {
    title: 'Customers', add: 'Add customer', name: 'Name', mobile: 'Mobile', email: 'E-mail (optional)', locale: 'Language',
    optIn: 'Gets WhatsApp updates', channels: 'Chats', empty: 'No customers yet.', searchLabel: 'Search customers',
    locales: { en: 'English', hi: 'Hindi' } as Record<string, string>,
  },

  settings: {
    title: 'Settings', channels: 'Channels', notifications: 'Notifications', templates: 'Templates', staff: 'Staff',
    addChannel: 'Add channel', channelType: 'Type', provider: 'Provider', phone: 'Phone number', accountId: 'Account / phone number ID',
    apiKey: 'Access token', apiSecret: 'Auth token (Twilio)', webhookSecret: 'App secret / webhook secret',
    secretSet: 'set — type to replace', secretUnset: 'not set', active: 'Active', webhookUrl: 'Webhook URL (paste it into the provider)', webhookUrlShort: 'the webhook URL',
    approved: 'Approved WhatsApp templates (sent outside the 24-hour window): name, language, parameters in order',
    approvedName: (event: string) => `${event}: template name`, approvedLanguage: 'Language', approvedParams: 'Parameters (variables, comma-separated)', event: 'Event',
    check: 'Check connection', checkedAt: (at: string) => `Checked ${at}`, verifyToken: 'Verify token (paste it into Meta with the webhook URL)', status: 'Status', events: {
      'sale.created': 'Order confirmed', 'production.created': 'Production started', 'production.step.completed': 'A step completed',
      'production.completed': 'Production completed', 'order.ready': 'Order ready', 'payment.received': 'Payment received',
      'order.cancelled': 'Order cancelled', 'lead.ack': 'New order acknowledged', 'lead.ask_which': 'Asking which product was meant',
      'message.auto_reply': 'Automatic "we\'ll reply soon" to a new sender\'s question',
    } as Record<string, string>,
    body: 'Message', preview: 'Preview', english: 'English', hindi: 'Hindi', reset: 'Back to default', isDefault: 'default',
    variables: 'Variables', addUser: 'Add staff member', userName: 'Name', userEmail: 'E-mail', userPassword: 'Password',
    role: 'Role', staffChanges: 'changing a role and deactivating staff', channelCheck: 'the connection check', deactivate: 'Deactivate', activate: 'Activate', inactive: 'inactive',
  },
};

export type Text = typeof t;
