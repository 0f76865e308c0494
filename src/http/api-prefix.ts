/** Where the API's routes live; Location headers and stream URLs are built from it too. */
export const API_PREFIX = '/api/v1';
